"""Git-derived dates and authors from a real repository with several authors and a rename."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from generator.index import gitmeta
from generator.index.build import build_index

from .conftest import Git, document, write


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def history(tmp_path: Path):
    repo = Git(tmp_path / "repo")
    catalog = repo.path / "catalog"
    write(catalog, "Service/a.yaml", document("Service", "a", title="A"))
    write(catalog, "Service/b.yaml", document("Service", "b", title="B"))
    (repo.path / "README.md").write_text("outside the catalog\n")
    first = repo.commit("add a and b", "Alice", "alice@example.com", "2024-01-01T09:00:00")
    write(catalog, "Service/a.yaml", document("Service", "a", title="A, edited"))
    (repo.path / "README.md").write_text("changed\n")
    second = repo.commit("edit a", "Bob", "bob@example.com", "2024-02-01T09:00:00")
    (catalog / "moved").mkdir()
    os.rename(catalog / "Service/b.yaml", catalog / "moved/b.yaml")
    third = repo.commit("move b", "Carol", "carol@example.com", "2024-03-01T09:00:00")
    return repo, catalog, (first, second, third)


def test_created_updated_and_authors(history):
    _, catalog, (first, second, third) = history
    meta = gitmeta.collect(catalog, ["Service/a.yaml", "moved/b.yaml"])
    assert meta.note is None and meta.head == third
    a = meta.files["Service/a.yaml"]
    assert (a.created_at, a.updated_at) == (at("2024-01-01T09:00:00"), at("2024-02-01T09:00:00"))
    assert (a.created_by, a.last_commit) == ("Alice", second)
    assert [c.commit for c in a.commits] == [second, first]
    assert [c.author_name for c in a.commits] == ["Bob", "Alice"]
    assert a.commits[0].message == "edit a" and a.commits[0].author_email == "bob@example.com"


def test_rename_keeps_the_original_creation(history):
    _, catalog, (first, _, third) = history
    b = gitmeta.collect(catalog, ["moved/b.yaml"]).files["moved/b.yaml"]
    assert b.created_at == at("2024-01-01T09:00:00") and b.created_by == "Alice"
    assert b.updated_at == at("2024-03-01T09:00:00") and b.last_commit == third
    assert [c.commit for c in b.commits] == [third, first]


def test_uncommitted_file_has_mtime_and_no_author(history):
    _, catalog, _ = history
    path = write(catalog, "Service/new.yaml", document("Service", "new"))
    os.utime(path, (1_700_000_000, 1_700_000_000))
    new = gitmeta.collect(catalog, ["Service/new.yaml"]).files["Service/new.yaml"]
    assert new.created_at == new.updated_at == at("2023-11-14T22:13:20")
    assert new.created_by is None and new.last_commit is None and new.commits == []


def test_local_modification_updates_with_mtime(history):
    _, catalog, (_, second, _) = history
    path = write(catalog, "Service/a.yaml", document("Service", "a", title="local"))
    os.utime(path, (1_750_000_000, 1_750_000_000))
    a = gitmeta.collect(catalog, ["Service/a.yaml"]).files["Service/a.yaml"]
    assert a.updated_at == at("2025-06-15T15:06:40")
    assert a.created_by == "Alice" and a.last_commit == second


@pytest.mark.parametrize("only", [False, True])
def test_local_modification_is_seen_by_both_paths(history, only):
    """A full build asks `git status`; a few files compare their content's object id."""
    _, catalog, (_, second, third) = history
    touched = catalog / "Service/a.yaml"
    os.utime(touched, (1_750_000_000, 1_750_000_000))  # same content, newer mtime
    edited = write(catalog, "moved/b.yaml", document("Service", "b", title="local"))
    os.utime(edited, (1_760_000_000, 1_760_000_000))
    files = gitmeta.collect(catalog, ["Service/a.yaml", "moved/b.yaml"], only=only).files
    assert files["Service/a.yaml"].updated_at == at("2024-02-01T09:00:00")
    assert files["Service/a.yaml"].last_commit == second
    assert files["moved/b.yaml"].updated_at == at("2025-10-09T08:53:20")
    assert files["moved/b.yaml"].last_commit == third


def test_collect_since_reads_only_later_commits(history):
    """Creation comes from what the index knew (here a made-up author, which the full
    history would not give); the commits after `since` are added in front."""
    repo, catalog, (first, second, _) = history
    write(catalog, "Service/a.yaml", document("Service", "a", title="third edit"))
    fourth = repo.commit("edit a again", "Dan", "dan@example.com", "2024-04-01T09:00:00")
    known = gitmeta.FileHistory(at("2020-01-01T00:00:00"), at("2024-02-01T09:00:00"),
                                "Known", second, commits=[gitmeta.Commit(
                                    second, "Bob", "bob@example.com",
                                    at("2024-02-01T09:00:00"), "edit a")])
    meta = gitmeta.collect_since(catalog, ["Service/a.yaml"], second, {"Service/a.yaml": known})
    a = meta.files["Service/a.yaml"]
    assert (a.created_by, a.created_at) == ("Known", at("2020-01-01T00:00:00"))
    assert (a.last_commit, a.updated_at) == (fourth, at("2024-04-01T09:00:00"))
    assert [c.commit for c in a.commits] == [fourth, second]
    # without what the index knew, or from a commit that is not an ancestor: full history
    for since, given in ((second, {}), ("0" * 40, {"Service/a.yaml": known})):
        a = gitmeta.collect_since(catalog, ["Service/a.yaml"], since, given).files[
            "Service/a.yaml"]
        assert (a.created_by, a.last_commit) == ("Alice", fourth)
        assert [c.commit for c in a.commits] == [fourth, second, first]


def test_deleted_then_added_again_starts_a_new_history(history):
    repo, catalog, _ = history
    (catalog / "Service/a.yaml").unlink()
    repo.commit("drop a", "Dan", "dan@example.com", "2024-04-01T09:00:00")
    write(catalog, "Service/a.yaml", document("Service", "a", title="again"))
    repo.commit("a is back", "Erin", "erin@example.com", "2024-05-01T09:00:00")
    a = gitmeta.collect(catalog, ["Service/a.yaml"]).files["Service/a.yaml"]
    assert (a.created_by, a.created_at) == ("Erin", at("2024-05-01T09:00:00"))


def test_only_limits_the_log_to_named_files(history):
    _, catalog, (_, second, _) = history
    meta = gitmeta.collect(catalog, ["Service/a.yaml"], only=True)
    assert meta.files["Service/a.yaml"].last_commit == second


def test_outside_git_uses_the_filesystem(tmp_path: Path):
    catalog = tmp_path / "plain"
    path = write(catalog, "x.yaml", document("Team", "x"))
    os.utime(path, (1_700_000_000, 1_700_000_000))
    meta = gitmeta.collect(catalog, ["x.yaml"])
    assert meta.head is None and "not inside a Git repository" in meta.note
    assert meta.files["x.yaml"].created_at == at("2023-11-14T22:13:20")


def test_repository_without_commits(tmp_path: Path):
    repo = Git(tmp_path / "repo")
    write(repo.path, "x.yaml", document("Team", "x"))
    meta = gitmeta.collect(repo.path, ["x.yaml"])
    assert meta.head is None and meta.note is None
    assert meta.files["x.yaml"].created_by is None


def test_index_columns_and_file_commits(history, tmp_path: Path):
    _, catalog, (first, second, third) = history
    index = tmp_path / "out" / "catalog.duckdb"
    build_index(catalog, index)
    con = duckdb.connect(str(index), read_only=True)
    try:
        rows = dict((r[0], r[1:]) for r in con.execute(
            "SELECT name, created_at, updated_at, created_by, last_commit FROM entities"
        ).fetchall())
        assert rows["a"] == (at("2024-01-01T09:00:00"), at("2024-02-01T09:00:00"), "Alice",
                             second)
        assert rows["b"] == (at("2024-01-01T09:00:00"), at("2024-03-01T09:00:00"), "Alice",
                             third)
        commits = con.execute("SELECT path, commit, author_name, author_email, message "
                              "FROM file_commits ORDER BY path, committed_at DESC").fetchall()
        assert commits == [
            ("Service/a.yaml", second, "Bob", "bob@example.com", "edit a"),
            ("Service/a.yaml", first, "Alice", "alice@example.com", "add a and b"),
            ("moved/b.yaml", third, "Carol", "carol@example.com", "move b"),
            ("moved/b.yaml", first, "Alice", "alice@example.com", "add a and b"),
        ]
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        assert meta["git_commit"] == third
    finally:
        con.close()


@pytest.mark.parametrize("value", ["a" * 40, "0123456789abcdef" * 4])
def test_object_ids_pass_the_guard(value) -> None:
    assert gitmeta.object_id(value) == value


@pytest.mark.parametrize("value", ["--output=/tmp/x", "HEAD", "a" * 39, "A" * 40,
                                   "a" * 40 + "\n", f"{'a' * 40}..HEAD", None, 7])
def test_anything_else_recorded_as_a_commit_never_reaches_git(value) -> None:
    assert gitmeta.object_id(value) is None
