"""One-file commits with plumbing: exactly the file, the caller as author, a moved HEAD refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runner.catalog.git import CatalogRepo, HeadMoved, Person, find_work_tree
from tests.support.runner_process import git

ALICE = Person("alice", "alice@example.com")
RUNNER = Person("Gantry", "runner@users.gantry")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "catalog" / "Team").mkdir(parents=True)
    (root / "catalog" / "Team" / "a.yaml").write_text("kind: Team\n")
    (root / "README").write_text("hello\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "seed")
    return root


def show(root: Path, *args: str) -> str:
    return git(root, "show", "-s", *args, "HEAD").strip()


def test_commit_holds_exactly_the_one_file_with_the_callers_name(repo: Path,
                                                                  monkeypatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Someone Else")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "else@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Someone Else")
    (repo / "README").write_text("changed but not part of the write\n")
    (repo / "staged.txt").write_text("staged by a person\n")
    git(repo, "add", "staged.txt")
    target = repo / "catalog" / "Service" / "default" / "svc.yaml"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"kind: Service\n")
    parent = git(repo, "rev-parse", "HEAD").strip()
    cat = CatalogRepo(repo)
    commit = cat.commit_file("catalog/Service/default/svc.yaml", b"kind: Service\n",
                             "Create svc", author=ALICE, committer=RUNNER,
                             expected_head=parent)
    assert git(repo, "rev-parse", "HEAD").strip() == commit
    assert git(repo, "diff", "--name-only", parent, commit).split() == [
        "catalog/Service/default/svc.yaml"]
    assert show(repo, "--format=%an <%ae>") == "alice <alice@example.com>"
    assert show(repo, "--format=%cn <%ce>") == "Gantry <runner@users.gantry>"
    status = git(repo, "status", "--porcelain").splitlines()
    assert sorted(status) == [" M README", "A  staged.txt"]
    git(repo, "fsck", "--strict", "--no-progress")


def test_trees_are_ordered_as_git_orders_them(repo: Path) -> None:
    cat = CatalogRepo(repo)
    for path in ("catalog/Team.yaml", "catalog/Team-x/b.yaml", "catalog/Team/b.yaml"):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(b"kind: Team\n")
        cat.commit_file(path, b"kind: Team\n", f"add {path}", author=ALICE, committer=RUNNER,
                        expected_head=cat.head())
    git(repo, "fsck", "--strict", "--no-progress")
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "README", "catalog/Team-x/b.yaml", "catalog/Team.yaml", "catalog/Team/a.yaml",
        "catalog/Team/b.yaml"]


def test_deleting_the_last_file_of_a_folder_drops_the_folder(repo: Path) -> None:
    (repo / "catalog" / "Team" / "a.yaml").unlink()
    cat = CatalogRepo(repo)
    cat.commit_file("catalog/Team/a.yaml", None, "Delete a", author=ALICE, committer=RUNNER,
                    expected_head=cat.head())
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == ["README"]
    assert git(repo, "status", "--porcelain") == ""


def test_a_moved_head_is_refused_and_nothing_moves(repo: Path) -> None:
    cat = CatalogRepo(repo)
    stale = cat.head()
    git(repo, "commit", "-q", "--allow-empty", "-m", "someone else")
    moved = cat.head()
    with pytest.raises(HeadMoved):
        cat.commit_file("catalog/Team/a.yaml", b"kind: Team\n# x\n", "Update a",
                        author=ALICE, committer=RUNNER, expected_head=stale)
    assert cat.head() == moved


def test_blob_at_head_reads_committed_bytes(repo: Path) -> None:
    cat = CatalogRepo(repo)
    assert cat.blob_at_head("catalog/Team/a.yaml") == b"kind: Team\n"
    assert cat.blob_at_head("catalog/Team/none.yaml") is None


def test_first_commit_in_an_empty_repository(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True,
                   env={**os.environ})
    cat = CatalogRepo(root)
    assert cat.head() is None
    (root / "catalog").mkdir()
    (root / "catalog" / "x.yaml").write_text("kind: Team\n")
    commit = cat.commit_file("catalog/x.yaml", b"kind: Team\n", "first", author=ALICE,
                             committer=RUNNER, expected_head=None)
    assert cat.head() == commit


def test_find_work_tree(tmp_path: Path, repo: Path) -> None:
    assert find_work_tree(repo / "catalog") == (repo.resolve(), "")
    outside = tmp_path / "plain"
    outside.mkdir()
    work_tree, reason = find_work_tree(outside)
    assert work_tree is None and "not inside a Git working tree" in reason
