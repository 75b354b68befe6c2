"""The one Git layer of the runner: who commits, how `git` runs, how files are committed.

Every Git command of the runner goes through `CatalogRepo.run` (or `run_git` for a folder
that is not known to be a repository yet), which runs `git` in a clean environment with
values from outside passed only as checked operands (`runner.catalog.git_args`).

Every write of catalog files goes through `CatalogRepo.commit_files`: the entity writer,
the dashboard, ArgoCD discovery. It

- refuses (`HeadMoved`, 409) when HEAD is not the commit the change was computed from;
- refuses (`UncommittedChanges`, 409) a file whose working-tree bytes differ from HEAD:
  those edits are someone else's and are never swept into a commit;
- writes every file atomically, builds the commit object by object from the tree of
  `expected_head` (never from the repository's index, so whatever else is staged stays
  out), and moves the branch with a compare-and-swap on its old value;
- puts every file back as it was when anything fails: no partial write, no commit;
- keeps a journal in the Git directory while its files are on disk but the branch has not
  moved yet, so a process killed in between is undone at the next start
  (`recover_interrupted_commits`): the working tree never keeps a write nobody was told of.

Author, committer and dates are set on the commit object, so `GIT_AUTHOR_*` in the
runner's environment never leak into a commit. `Identity.for_user` is the one place that
turns a user into a commit identity.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import git
from git import Actor
from git.objects import Commit, Tree
from gitdb import IStream, LooseObjectDB

from runner.errors import StatusError

from .git_args import GitRunError, UnsafeGitValue, run_git, safe_path

log = logging.getLogger(__name__)

EMPTY_OLD_VALUE = ""
"""What `git update-ref` takes as the old value of a branch that must not exist yet."""
GIT_TIMEOUT_SECONDS = 30
FILE_MODE = 0o100644
TREE_MODE = 0o040000
JOURNAL_PREFIX = "gantry-commit."
"""Journal files of commits in progress: `<git dir>/gantry-commit.<pid>.<thread>.json`."""
USER_EMAIL_DOMAIN = "users.gantry"
"""The e-mail domain of a user who has no e-mail address: `<name>@users.gantry`."""


class GitError(StatusError):
    """A Git command failed; the message says which and why. Nothing was committed."""

    status = 500


class HeadMoved(GitError):
    """HEAD is not the commit the change was computed from; nothing was written."""

    status = 409


class UncommittedChanges(GitError):
    """A file to be written has uncommitted changes (someone else's); nothing was written."""

    status = 409

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} has uncommitted changes in the working tree")
        self.path = path


@dataclass(frozen=True, slots=True)
class Identity:
    """Someone named on a commit (author or committer).

    `role` is the runner role of the user the identity acts for, when it does: the write
    policy judges an entity write by it (an identity without one may not write entities).
    It is never written into a commit.
    """

    name: str
    email: str
    role: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @classmethod
    def for_user(cls, user: Any, *, email: str | None = None,
                 role: str | None = None) -> Identity:
        """The identity of a user: their name and e-mail, else `<name>@users.gantry`.

        `user` is an account (`username`, `email`, `role`), an Identity, or a user name;
        `email` and `role` given here win over the user's own.
        """
        if isinstance(user, Identity) and email is None and role is None:
            return user
        name = getattr(user, "username", None) or getattr(user, "name", None) or str(user)
        email = email or getattr(user, "email", None) or f"{name}@{USER_EMAIL_DOMAIN}"
        role = role or getattr(user, "role", None)
        return cls(str(name), str(email), role if isinstance(role, str) else None)

    def committer_env(self) -> dict[str, str]:
        """The variables that name this identity as committer of a porcelain command."""
        return {"GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email}


RUNNER = Identity("Gantry", f"runner@{USER_EMAIL_DOMAIN}")
"""The committer of writes made through the API and actions (the author is the caller)."""
GANTRY = Identity("Gantry", f"gantry@{USER_EMAIL_DOMAIN}")
"""The runner acting on its own: scheduled discovery, GitOps rebases."""


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
    """The Git working tree around the catalog: the one runner of `git` and of commits.

    Objects (blobs, trees, the commit) are read and written in process through GitPython's
    object database; only moving the branch and updating the index run `git`, so a commit
    costs two short subprocesses whatever the size of the repository.
    """

    def __init__(self, work_tree: Path):
        self.work_tree = Path(work_tree)
        self._repo = git.Repo(self.work_tree)
        self._objects = LooseObjectDB(str(Path(self._repo.common_dir) / "objects"))

    def close(self) -> None:
        self._repo.close()

    @property
    def git_dir(self) -> Path:
        """The repository's Git directory (`.git`, or a worktree's own)."""
        return Path(self._repo.git_dir)

    def changed_paths(self, old: str, new: str, under: str = "") -> list[str]:
        """Paths below the folder `under` (repository-relative posix, "" for all) that
        differ between two commits, relative to that folder."""
        prefix = f"{under.strip('/')}/" if under.strip("/") not in ("", ".") else ""
        names = self.run("diff", "--name-only", "--no-renames", operands=(old, new),
                         separator=None).stdout.split("\n")
        return sorted(name[len(prefix):] for name in names if name and name.startswith(prefix))

    def run(self, *args: str, operands: Sequence[str] = (), separator: str | None = "--",
            env: Mapping[str, str] | None = None, config: Mapping[str, str] | None = None,
            timeout: float = GIT_TIMEOUT_SECONDS, text: bool = True,
            check: bool = True) -> subprocess.CompletedProcess:
        """Run `git *args <separator> *operands` in the work tree (see `run_git`).

        GitError when git cannot run, a value is unsafe, or (with `check`) git fails; the
        message carries git's own first words, which callers clean of secrets.
        """
        try:
            done = run_git(self.work_tree, *args, operands=operands, separator=separator,
                           env=env, config=config, timeout=timeout, text=text)
        except (GitRunError, UnsafeGitValue) as exc:
            raise GitError(f"git {args[0]} could not run: {exc}") from exc
        if check and done.returncode != 0:
            output = done.stderr or done.stdout
            message = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
            raise GitError(f"git {args[0]} failed: {message.strip()}")
        return done

    def head(self) -> str | None:
        """The commit HEAD points at, or None in a repository without commits."""
        try:
            return self._repo.head.commit.hexsha
        except ValueError:
            return None

    def require_head(self, expected_head: str | None) -> None:
        """HeadMoved unless HEAD is still `expected_head` (checked before moving a branch)."""
        if self.head() != expected_head:
            raise HeadMoved("the branch moved while the change was being prepared; nothing "
                            "was written, try again")

    def blob_at_head(self, path: str) -> bytes | None:
        """The committed content of `path` (relative to the work tree), None if not in HEAD."""
        return self._blob_at(self.head(), path)

    def _blob_at(self, commit: str | None, path: str) -> bytes | None:
        if commit is None:
            return None
        current: tuple[bytes, int] | None = (self._repo.commit(commit).tree.binsha, TREE_MODE)
        for name in PurePosixPath(path).parts:
            if current is None or current[1] != TREE_MODE:
                return None
            current = self._tree_entries(current[0]).get(name)
        if current is None or current[1] == TREE_MODE:
            return None
        return self._repo.odb.stream(current[0]).read()

    # --- commits -------------------------------------------------------------------------

    def commit_files(self, changes: Mapping[str, bytes | None], author: Identity,
                     expected_head: str | None, message: str, *,
                     committer: Identity | None = None) -> str:
        """Write `changes` (work-tree-relative path → new bytes, None deletes) and commit
        them as one commit on top of `expected_head`; returns the commit id.

        Refused before anything is written with HeadMoved (HEAD is not `expected_head`) or
        UncommittedChanges (a file differs from HEAD). Any later failure puts every file
        back and raises GitError (HeadMoved when the branch moved meanwhile).
        """
        paths = sorted(changes)
        for path in paths:
            self._check_path(path)
        self.require_head(expected_head)
        for path in paths:
            if self._work_tree_bytes(path) != self._blob_at(expected_head, path):
                raise UncommittedChanges(path)
        originals = {path: self._work_tree_bytes(path) for path in paths}
        commit, modes = self._build_commit(changes, author, committer or author,
                                           expected_head, message)
        journal = self._open_journal(commit, paths)
        made: list[Path] = []
        try:
            for path in paths:
                made += self._write(path, changes[path])
            self._move_head(commit, expected_head, message)
        except BaseException as exc:
            self._restore(originals, made)
            journal.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise GitError(f"the change could not be written: {exc}") from exc
            raise
        for path in paths:
            self._sync_index(path, modes.get(path))
        journal.unlink(missing_ok=True)
        return commit

    def _open_journal(self, commit: str, paths: Sequence[str]) -> Path:
        """Record, before any file is written, which commit the files are written for."""
        journal = (Path(self._repo.git_dir)
                   / f"{JOURNAL_PREFIX}{os.getpid()}.{threading.get_ident()}.json")
        try:
            write_atomic(journal, json.dumps({"pid": os.getpid(), "commit": commit,
                                              "paths": list(paths)}).encode())
        except OSError as exc:
            raise GitError(f"the change could not be written: {exc}") from exc
        return journal

    def recover_interrupted_commits(self) -> list[str]:
        """Undo the files of commits whose process stopped before the branch moved.

        A journal left by a process that no longer runs names a commit and its files. When
        the branch holds that commit, only the repository's index is brought in line;
        otherwise every file still holding that commit's bytes is put back to HEAD's (the
        caller was never answered, so nothing anyone was told of is lost). Files edited
        since are left alone. Returns the paths put back.
        """
        restored: list[str] = []
        for journal in sorted(Path(self._repo.git_dir).glob(f"{JOURNAL_PREFIX}*.json")):
            try:
                entry = json.loads(journal.read_text(encoding="utf-8"))
                pid, commit, paths = int(entry["pid"]), str(entry["commit"]), entry["paths"]
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("ignoring an unreadable commit journal %s", journal.name)
                journal.unlink(missing_ok=True)
                continue
            if pid != os.getpid() and _process_alive(pid):
                continue
            self._remove_stale_ref_locks(journal.stat().st_mtime)
            landed = self._is_ancestor(commit, self.head())
            for path in paths:
                if self._check_recoverable(path):
                    restored += self._recover_path(path, commit, landed)
            journal.unlink(missing_ok=True)
        return restored

    def _remove_stale_ref_locks(self, since: float) -> None:
        """Remove the lock files of HEAD and its branch that the interrupted `git update-ref`
        left (made after the journal, by the process that stopped): else every later commit
        fails with "cannot lock ref"."""
        git_dir = Path(self._repo.git_dir)
        locks = [git_dir / "HEAD.lock"]
        if not self._repo.head.is_detached:
            locks.append(git_dir / f"{self._repo.head.reference.path}.lock")
        for lock in locks:
            try:
                if lock.stat().st_mtime >= since:
                    lock.unlink()
                    log.warning("removed %s, left by a commit that was interrupted", lock.name)
            except FileNotFoundError:
                continue

    def _check_recoverable(self, path: str) -> bool:
        try:
            self._check_path(path)
        except GitError:
            log.warning("ignoring the unsafe path %r in a commit journal", path)
            return False
        return True

    def _recover_path(self, path: str, commit: str, landed: bool) -> list[str]:
        at_head = self.blob_at_head(path)
        on_disk = self._work_tree_bytes(path)
        if landed:
            if on_disk == at_head:
                self.run("update-index", "--remove", "--add", operands=(path,), check=False)
            return []
        if on_disk == at_head or on_disk != self._blob_at(commit, path):
            return []
        if at_head is None:
            (self.work_tree / path).unlink(missing_ok=True)
        else:
            write_atomic(self.work_tree / path, at_head)
        log.warning("put %s back as committed: the write of commit %s was interrupted "
                    "before it was committed", path, commit[:12])
        return [path]

    def _is_ancestor(self, commit: str, head: str | None) -> bool:
        if head is None:
            return False
        done = self.run("merge-base", "--is-ancestor", operands=(commit, head),
                        separator=None, check=False)
        return done.returncode == 0

    def _check_path(self, path: str) -> None:
        """GitError (400) unless `path` is a plain relative path that stays inside the work
        tree once symbolic links are followed."""
        try:
            safe_path(path, "path")
        except UnsafeGitValue as exc:
            raise GitError(f"{path!r} cannot be committed: {exc}", status=400) from None
        root = self.work_tree.resolve()
        if not (root / path).resolve().is_relative_to(root):
            raise GitError(f"{path!r} cannot be committed: it leads outside the working tree "
                           "through a symbolic link", status=400)

    def _work_tree_bytes(self, path: str) -> bytes | None:
        full = self.work_tree / path
        return full.read_bytes() if full.is_file() else None

    def _write(self, path: str, content: bytes | None) -> list[Path]:
        """Write or delete one file atomically; the folders it had to create."""
        full = self.work_tree / path
        if content is None:
            full.unlink(missing_ok=True)
            return []
        made = [folder for folder in reversed(full.parents) if folder.is_relative_to(
            self.work_tree) and not folder.exists()]
        full.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(full, content)
        return made

    def _restore(self, originals: Mapping[str, bytes | None], made: list[Path]) -> None:
        """Put every file back as it was before `commit_files` and drop folders it made."""
        for path, content in originals.items():
            full = self.work_tree / path
            if content is None:
                full.unlink(missing_ok=True)
            else:
                write_atomic(full, content)
        for folder in sorted(made, key=lambda p: len(p.parts), reverse=True):
            try:
                folder.rmdir()
            except OSError:
                pass

    def _build_commit(self, changes: Mapping[str, bytes | None], author: Identity,
                      committer: Identity, parent_id: str | None, message: str
                      ) -> tuple[str, dict[str, tuple[str, int]]]:
        """The commit object of `changes` on `parent_id`; also (blob, mode) of each file."""
        try:
            parent = self._repo.commit(parent_id) if parent_id else None
            tree = parent.tree.binsha if parent is not None else None
            written: dict[str, tuple[str, int]] = {}
            for path in sorted(changes):
                content = changes[path]
                blob = self._store(b"blob", content) if content is not None else None
                tree, mode = self._replace(tree, list(PurePosixPath(path).parts), blob)
                if blob is not None:
                    written[path] = (blob.hex(), mode)
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
        return commit, written

    def _move_head(self, commit: str, expected_head: str | None, message: str) -> None:
        """Move the branch to `commit` only if it still is `expected_head`."""
        moved = self.run("update-ref", "-m", f"gantry: {message.splitlines()[0]}",
                         operands=("HEAD", commit, expected_head or EMPTY_OLD_VALUE),
                         check=False, text=False)
        if moved.returncode != 0:
            self.require_head(expected_head)
            reason = moved.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git update-ref failed: {reason}")

    def _sync_index(self, path: str, blob: tuple[str, int] | None) -> None:
        """Make the repository's index agree with the new commit for this one path."""
        if blob is None:
            self.run("update-index", "--force-remove", operands=(path,), check=False)
        else:
            sha, mode = blob
            self.run("update-index", "--add", "--cacheinfo", f"{mode:o},{sha},{path}",
                     check=False)

    # --- objects -------------------------------------------------------------------------

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


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs (a journal of a live process is not touched)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (ended, not yet collected by its parent) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def write_atomic(path: Path, content: bytes) -> None:
    """Replace `path` with `content` in one step: a temporary file in the same folder,
    flushed to disk, then renamed over it (a stop leaves the old file or the new one)."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
