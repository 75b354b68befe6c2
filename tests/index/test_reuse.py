"""Catching an existing index up with the catalog: only the files that differ are re-read,
the result is what a full build writes, and a full build is asked for when reuse is wrong."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb

from generator.index.build import build_index
from generator.index.reuse import catch_up

from .conftest import Built, Git, document, write
from .test_incremental import assert_same_as_full_build, snapshot

PAYMENT = "service:default/payment-api"


def meta(index: Path, key: str) -> str:
    with duckdb.connect(str(index), read_only=True) as con:
        return con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()[0]


def repo_of(built: Built) -> Git:
    """The repository `make_small` committed the catalog in (not initialised again)."""
    repo = Git.__new__(Git)
    repo.path = built.root.parent
    return repo


def test_an_index_at_the_checked_out_commit_reads_nothing(small: Built) -> None:
    before = snapshot(small.index)
    caught = catch_up(small.index, small.root)
    assert caught is not None
    assert caught.files == [] and caught.changed_refs == set() and caught.rehashed == 0
    assert snapshot(small.index) == before


def test_commits_since_the_index_are_read_and_nothing_else(small: Built, tmp_path) -> None:
    repo = repo_of(small)
    write(small.root, "Service/payment-api.yaml", document(
        "Service", "payment-api", title="Payment API v2", owner="payments-team",
        spec={"type": "backend", "lifecycle": "production"}))
    repo.commit("retitle", "Bob", "bob@example.com", "2024-02-01T10:00:00")
    (small.root / "Service" / "checkout-web.yaml").unlink()
    repo.commit("drop checkout", "Bob", "bob@example.com", "2024-02-02T10:00:00")
    caught = catch_up(small.index, small.root)
    assert caught is not None
    assert caught.files == ["Service/checkout-web.yaml", "Service/payment-api.yaml"]
    assert PAYMENT in caught.changed_refs
    assert "service:default/checkout-web" in caught.changed_refs
    assert meta(small.index, "git_commit") == repo.run("rev-parse", "HEAD").strip()
    assert_same_as_full_build(small, tmp_path)
    with duckdb.connect(str(small.index), read_only=True) as con:
        last = con.execute("SELECT last_commit FROM entities WHERE ref = ?",
                           [PAYMENT]).fetchone()
    assert last == (repo.run("rev-parse", "HEAD~1").strip(),)


def test_a_file_changed_and_changed_back_in_commits_is_read_again(small: Built) -> None:
    """Its content is as indexed, but its history (last commit, authors) moved."""
    repo = repo_of(small)
    path = small.root / "Team" / "platform-team.yaml"
    original = path.read_bytes()
    path.write_text(original.decode() + "# a note\n", encoding="utf-8")
    repo.commit("note", "Carol", "carol@example.com", "2024-03-01T10:00:00")
    path.write_bytes(original)
    repo.commit("no note", "Carol", "carol@example.com", "2024-03-02T10:00:00")
    caught = catch_up(small.index, small.root)
    assert caught is not None and caught.files == ["Team/platform-team.yaml"]


def test_a_commit_outside_the_catalog_only_moves_the_commit(small: Built) -> None:
    repo = repo_of(small)
    (repo.path / "README.md").write_text("hello\n", encoding="utf-8")
    repo.commit("readme", "Dan", "dan@example.com", "2024-04-01T10:00:00")
    before = snapshot(small.index)
    caught = catch_up(small.index, small.root)
    assert caught is not None and caught.files == []
    assert meta(small.index, "git_commit") == repo.run("rev-parse", "HEAD").strip()
    assert snapshot(small.index) == before


def test_uncommitted_edits_and_new_files_are_read(small: Built, tmp_path) -> None:
    write(small.root, "Service/new-thing.yaml", document(
        "Service", "new-thing", owner="platform-team",
        spec={"type": "backend", "lifecycle": "experimental"}))
    path = small.root / "Service" / "billing-worker.yaml"
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("Sends invoices", "Sends bills"),
                    encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: the size differs
    caught = catch_up(small.index, small.root)
    assert caught is not None
    assert caught.files == ["Service/billing-worker.yaml", "Service/new-thing.yaml"]
    assert_same_as_full_build(small, tmp_path)


def test_a_copy_in_another_clone_is_hashed_once_then_trusted(small: Built, tmp_path) -> None:
    """A seed index from CI: every mtime differs, every content matches."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(small.root.parent), str(clone)], check=True)
    seed = tmp_path / "seed.duckdb"
    shutil.copyfile(small.index, seed)
    caught = catch_up(seed, clone / "catalog")
    assert caught is not None and caught.files == []
    assert caught.rehashed == len(snapshot(seed)[3])
    again = catch_up(seed, clone / "catalog")
    assert again is not None and again.rehashed == 0 and again.files == []


def test_rewritten_history_asks_for_a_full_build(small: Built) -> None:
    repo = repo_of(small)
    write(small.root, "Team/ops.yaml", document("Team", "ops"))
    repo.run("add", "-A")
    repo.run("commit", "-q", "--amend", "-m", "rewritten",
             env={"GIT_AUTHOR_NAME": "E", "GIT_AUTHOR_EMAIL": "e@example.com",
                  "GIT_COMMITTER_NAME": "E", "GIT_COMMITTER_EMAIL": "e@example.com"})
    assert catch_up(small.index, small.root) is None


def test_more_differing_files_than_the_limit_ask_for_a_full_build(small: Built) -> None:
    for number in range(4):
        write(small.root, f"Team/t{number}.yaml", document("Team", f"t{number}"))
    assert catch_up(small.index, small.root, limit=3) is None
    assert catch_up(small.index, small.root, limit=4) is not None


def test_an_index_of_another_gantry_version_asks_for_a_full_build(small: Built) -> None:
    with duckdb.connect(str(small.index)) as con:
        con.execute("UPDATE meta SET value = '0.0.1' WHERE key = 'gantry_version'")
    assert catch_up(small.index, small.root) is None


def test_a_file_that_is_not_an_index_asks_for_a_full_build(small: Built, tmp_path) -> None:
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database")
    assert catch_up(broken, small.root) is None
    build_index(small.root, broken)  # and the build that follows replaces it
    assert catch_up(broken, small.root) is not None

