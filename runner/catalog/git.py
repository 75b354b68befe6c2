"""Commit exactly one catalog file, authored by the person who asked for the change.

The commit is built object by object from the tree of HEAD, never from the repository's
index: whatever else is
staged or modified in the working tree stays out of the commit. The branch is moved with a
compare-and-swap on its old value, so a commit made meanwhile by someone else (a pull, a
person at a terminal) makes the write fail instead of being silently overwritten.

Author, committer and dates are set explicitly on the commit object, so `GIT_AUTHOR_*` in
the runner's environment never leak into a commit; the few `git` commands run in a clean
environment (no `GIT_DIR` or `GIT_INDEX_FILE` from outside) through
`runner.catalog.git_args.run_git`, with paths passed after `--`.
"""

from __future__ import annotations

import io
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git
from git import Actor
from git.objects import Commit, Tree
from gitdb import IStream, LooseObjectDB

from runner.catalog.git_args import GitRunError, UnsafeGitValue, run_git

EMPTY_OLD_VALUE = ""
"""What `git update-ref` takes as the old value of a branch that must not exist yet."""
GIT_TIMEOUT_SECONDS = 30
FILE_MODE = 0o100644
TREE_MODE = 0o040000


class GitError(Exception):
    """A Git command failed; the message says which and why."""


class HeadMoved(GitError):
    """The branch changed between reading HEAD and moving it; nothing was committed."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named on a commit."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def find_work_tree(path: Path) -> tuple[Path | None, str]:
    """The root of the Git working tree holding `path`, or None and the reason why not."""
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        return None, f"the catalog folder {path.name!r} does not exist"
    except git.InvalidGitRepositoryError:
        return None, "the catalog is not inside a Git working tree"
    try:
        if repo.bare or repo.working_tree_dir is None:
            return None, "the catalog is inside a bare Git repository, which has no working tree"
        return Path(repo.working_tree_dir).resolve(), ""
    finally:
        repo.close()


def parse_tree(data: bytes) -> dict[str, tuple[bytes, int]]:
    """Entries of a raw tree object (`<octal mode> <name>\\0<20-byte sha>` repeated)."""
    entries: dict[str, tuple[bytes, int]] = {}
    position, size = 0, len(data)
    while position < size:
        space = data.index(b" ", position)
        nul = data.index(b"\0", space)
        mode = int(data[position:space], 8)
        name = data[space + 1:nul].decode("utf-8", "surrogateescape")
        entries[name] = (data[nul + 1:nul + 21], mode)
        position = nul + 21
    return entries


def serialize_tree(entries: dict[str, tuple[bytes, int]]) -> bytes:
    """A raw tree object, entries in Git's order (a folder sorts as if its name ended in /)."""
    def order(name: str) -> bytes:
        encoded = name.encode("utf-8", "surrogateescape")
        return encoded + b"/" if entries[name][1] == TREE_MODE else encoded

    return b"".join(b"%o %s\0%s" % (entries[name][1], name.encode("utf-8", "surrogateescape"),
                                     entries[name][0]) for name in sorted(entries, key=order))


class CatalogRepo:
    """The Git working tree around the catalog.

    Objects (blobs, trees, the commit) are read and written in process through GitPython's
    object database; only moving the branch and updating the index run `git`, so a write
    costs two short subprocesses whatever the size of the repository.
    """

    def __init__(self, work_tree: Path):
        self.work_tree = Path(work_tree)
        self._repo = git.Repo(self.work_tree)
        self._objects = LooseObjectDB(str(Path(self._repo.common_dir) / "objects"))

    def _git(self, *args: str, operands: tuple[str, ...] = (),
             check: bool = True) -> subprocess.CompletedProcess:
        try:
            result = run_git(self.work_tree, *args, operands=operands,
                             timeout=GIT_TIMEOUT_SECONDS, text=False)
        except (GitRunError, UnsafeGitValue) as exc:
            raise GitError(f"git {args[0]} could not run: {exc}") from exc
        if check and result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed: {message}")
        return result

    def head(self) -> str | None:
        """The commit HEAD points at, or None in a repository without commits."""
        try:
            return self._repo.head.commit.hexsha
        except ValueError:
            return None

    def blob_at_head(self, path: str) -> bytes | None:
        """The committed content of `path` (relative to the work tree), None if not in HEAD."""
        head = self.head()
        if head is None:
            return None
        current: tuple[bytes, int] | None = (self._repo.commit(head).tree.binsha, TREE_MODE)
        for name in PurePosixPath(path).parts:
            if current is None or current[1] != TREE_MODE:
                return None
            current = self._tree_entries(current[0]).get(name)
        if current is None or current[1] == TREE_MODE:
            return None
        return self._repo.odb.stream(current[0]).read()

    def _store(self, kind: bytes, data: bytes) -> bytes:
        return self._objects.store(IStream(kind, len(data), io.BytesIO(data))).binsha

    def _tree_entries(self, tree: bytes | None) -> dict[str, tuple[bytes, int]]:
        """A tree object's entries: name → (binary sha, mode)."""
        if tree is None:
            return {}
        return parse_tree(self._repo.odb.stream(tree).read())

    def _make_tree(self, entries: dict[str, tuple[bytes, int]]) -> bytes:
        return self._store(b"tree", serialize_tree(entries))

    def _replace(self, tree: bytes | None, parts: list[str], blob: bytes | None
                 ) -> tuple[bytes | None, int]:
        """The tree `tree` with the file at `parts` set to `blob` (removed when None).

        Returns the new tree (None when it would be empty) and the file's mode.
        """
        entries = self._tree_entries(tree)
        name = parts[0]
        existing = entries.get(name)
        if len(parts) == 1:
            mode = existing[1] if existing and existing[1] != TREE_MODE else FILE_MODE
            if blob is None:
                entries.pop(name, None)
            else:
                entries[name] = (blob, mode)
        else:
            subtree = existing[0] if existing and existing[1] == TREE_MODE else None
            new_subtree, mode = self._replace(subtree, parts[1:], blob)
            if new_subtree is None:
                entries.pop(name, None)
            else:
                entries[name] = (new_subtree, TREE_MODE)
        if not entries:
            return None, mode
        return self._make_tree(entries), mode

    def commit_file(self, path: str, content: bytes | None, message: str, *, author: Person,
                    committer: Person, expected_head: str | None) -> str:
        """Commit `content` at `path` (None deletes it) on top of `expected_head`.

        Only that path differs from the parent. Raises HeadMoved when HEAD is no longer
        `expected_head`, GitError for any other failure; in both cases no branch moved.
        """
        parts = list(PurePosixPath(path).parts)
        try:
            blob = self._store(b"blob", content) if content is not None else None
            parent = self._repo.commit(expected_head) if expected_head else None
            base_tree = parent.tree.binsha if parent is not None else None
            tree, mode = self._replace(base_tree, parts, blob)
            if tree is None:
                tree = self._make_tree({})
            now = f"{int(time.time())} +0000"
            commit = Commit.create_from_tree(
                self._repo, Tree(self._repo, tree), message,
                parent_commits=[parent] if parent is not None else [], head=False,
                author=Actor(author.name, author.email),
                committer=Actor(committer.name, committer.email),
                author_date=now, commit_date=now).hexsha
        except (OSError, ValueError, git.GitError) as exc:
            raise GitError(f"the commit could not be built: {exc}") from exc
        moved = self._git("update-ref", "-m", f"gantry: {message.splitlines()[0]}",
                          operands=("HEAD", commit, expected_head or EMPTY_OLD_VALUE),
                          check=False)
        if moved.returncode != 0:
            if self.head() != expected_head:
                raise HeadMoved("the branch moved while the change was being written; "
                                "nothing was committed, try again")
            reason = moved.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git update-ref failed: {reason}")
        self._sync_index(path, blob.hex() if blob is not None else None, mode)
        return commit

    def _sync_index(self, path: str, blob: str | None, mode: int) -> None:
        """Make the repository's index agree with the new commit for this one path."""
        if blob is None:
            self._git("update-index", "--force-remove", operands=(path,), check=False)
        else:
            self._git("update-index", "--add", "--cacheinfo", f"{mode:o},{blob},{path}",
                      check=False)
