"""Commits with plumbing: exactly the files, the caller as author, a moved HEAD refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runner.catalog.git import (
    CatalogRepo,
    GitError,
    HeadMoved,
    Identity,
    UncommittedChanges,
    find_work_tree,
)
from tests.support.runner_process import git

ALICE = Identity("alice", "alice@example.com")
RUNNER = Identity("Gantry", "runner@users.gantry")


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
    parent = git(repo, "rev-parse", "HEAD").strip()
    cat = CatalogRepo(repo)
    commit = cat.commit_files({"catalog/Service/default/svc.yaml": b"kind: Service\n"},
                              ALICE, parent, "Create svc", committer=RUNNER)
    assert target.read_bytes() == b"kind: Service\n"
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
        cat.commit_files({path: b"kind: Team\n"}, ALICE, cat.head(), f"add {path}",
                         committer=RUNNER)
    git(repo, "fsck", "--strict", "--no-progress")
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "README", "catalog/Team-x/b.yaml", "catalog/Team.yaml", "catalog/Team/a.yaml",
        "catalog/Team/b.yaml"]


def test_deleting_the_last_file_of_a_folder_drops_the_folder(repo: Path) -> None:
    cat = CatalogRepo(repo)
    cat.commit_files({"catalog/Team/a.yaml": None}, ALICE, cat.head(), "Delete a",
                     committer=RUNNER)
    assert not (repo / "catalog" / "Team" / "a.yaml").exists()
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == ["README"]
    assert git(repo, "status", "--porcelain") == ""


def test_a_moved_head_is_refused_and_nothing_moves(repo: Path) -> None:
    cat = CatalogRepo(repo)
    stale = cat.head()
    git(repo, "commit", "-q", "--allow-empty", "-m", "someone else")
    moved = cat.head()
    with pytest.raises(HeadMoved) as refused:
        cat.commit_files({"catalog/Team/a.yaml": b"kind: Team\n# x\n"}, ALICE, stale,
                         "Update a", committer=RUNNER)
    assert refused.value.status == 409
    assert cat.head() == moved
    assert (repo / "catalog" / "Team" / "a.yaml").read_bytes() == b"kind: Team\n"


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
    commit = cat.commit_files({"catalog/x.yaml": b"kind: Team\n"}, ALICE, None, "first",
                              committer=RUNNER)
    assert cat.head() == commit


def test_find_work_tree(tmp_path: Path, repo: Path) -> None:
    assert find_work_tree(repo / "catalog") == (repo.resolve(), "")
    outside = tmp_path / "plain"
    outside.mkdir()
    work_tree, reason = find_work_tree(outside)
    assert work_tree is None and "not inside a Git working tree" in reason


def test_several_files_are_one_commit_and_a_moved_head_writes_none_of_them(repo: Path) -> None:
    cat = CatalogRepo(repo)
    head = cat.head()
    changes = {"catalog/Team/a.yaml": b"kind: Team\n# edited\n",
               "catalog/Group/new/b.yaml": b"kind: Group\n", "README": None}
    git(repo, "commit", "-q", "--allow-empty", "-m", "a terminal commit")
    moved = cat.head()
    with pytest.raises(HeadMoved):
        cat.commit_files(changes, ALICE, head, "Three changes")
    assert cat.head() == moved
    assert (repo / "catalog" / "Team" / "a.yaml").read_bytes() == b"kind: Team\n"
    assert (repo / "README").read_text() == "hello\n"
    assert not (repo / "catalog" / "Group").exists()

    commit = cat.commit_files(changes, ALICE, moved, "Three changes")
    assert git(repo, "rev-list", "--count", f"{moved}..{commit}").strip() == "1"
    assert sorted(git(repo, "diff", "--name-only", moved, commit).split()) == [
        "README", "catalog/Group/new/b.yaml", "catalog/Team/a.yaml"]
    assert show(repo, "--format=%cn <%ce>") == "alice <alice@example.com>"
    assert git(repo, "status", "--porcelain") == ""


def test_uncommitted_edits_of_a_file_to_write_are_refused_and_kept(repo: Path) -> None:
    cat = CatalogRepo(repo)
    head = cat.head()
    (repo / "README").write_text("a person's unsaved thought\n")
    with pytest.raises(UncommittedChanges) as refused:
        cat.commit_files({"README": b"replaced\n", "catalog/Team/c.yaml": b"kind: Team\n"},
                         ALICE, head, "Overwrite")
    assert refused.value.path == "README" and refused.value.status == 409
    assert cat.head() == head
    assert (repo / "README").read_text() == "a person's unsaved thought\n"
    assert not (repo / "catalog" / "Team" / "c.yaml").exists()


@pytest.mark.parametrize("path", ["../outside.yaml", "/etc/passwd", "-rf", "catalog/../../x",
                                  "catalog/--help.yaml", "linked/escape.yaml"])
def test_paths_outside_the_work_tree_or_like_options_are_refused(repo: Path, tmp_path: Path,
                                                                 path: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "linked").symlink_to(outside)
    git(repo, "add", "linked")
    git(repo, "commit", "-q", "-m", "a link out of the repository")
    cat = CatalogRepo(repo)
    head = cat.head()
    with pytest.raises(GitError) as refused:
        cat.commit_files({path: b"x\n"}, ALICE, head, "Escape")
    assert refused.value.status == 400
    assert cat.head() == head
    assert git(repo, "status", "--porcelain") == ""
    assert list(outside.iterdir()) == []


def test_a_commit_that_cannot_move_the_branch_puts_every_file_back(repo: Path) -> None:
    cat = CatalogRepo(repo)
    head = cat.head()
    lock = repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("held by another git process\n")
    try:
        with pytest.raises(GitError) as failed:
            cat.commit_files({"catalog/Team/a.yaml": b"kind: Team\n# new\n",
                              "catalog/New/d.yaml": b"kind: Team\n"}, ALICE, head, "Blocked")
    finally:
        lock.unlink()
    assert failed.value.status == 500
    assert cat.head() == head
    assert (repo / "catalog" / "Team" / "a.yaml").read_bytes() == b"kind: Team\n"
    assert not (repo / "catalog" / "New").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_identity_for_a_user_spells_the_fallback_once() -> None:
    class Account:
        username, email, role = "bo", None, "developer"

    assert Identity.for_user(Account()) == Identity("bo", "bo@users.gantry")
    assert Identity.for_user(Account()).role == "developer"
    assert Identity.for_user("ci-bot", email="ci@example.com", role="admin") == \
        Identity("ci-bot", "ci@example.com")
    assert Identity.for_user(ALICE) is ALICE
