"""Created/updated dates and authors of catalog files, from one pass over the Git history.

One `git log --name-status -M -z` over the catalog folder yields, newest first, every
commit and the files it touched. Walking it once, with renames followed back to the older
name, gives each current file its first and last commit: 100k files cost one process, not
100k. Files Git does not know, and committed files with local modifications, take their
modification time (and no author for the former). A catalog outside any Git repository
gets filesystem metadata and a note.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RECENT_COMMITS = 20
"""How many of a file's latest commits `file_commits` keeps (the site's activity list)."""

_FIELD = "\x1f"
_RECORD = "\x1e"
_FORMAT = f"{_RECORD}%H{_FIELD}%an{_FIELD}%ae{_FIELD}%ct{_FIELD}%s"


@dataclass(frozen=True, slots=True)
class Commit:
    commit: str
    author_name: str
    author_email: str
    committed_at: datetime
    message: str


@dataclass(slots=True)
class FileHistory:
    """What the index stores about one file; `commits` newest first."""

    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    last_commit: str | None = None
    commits: list[Commit] = field(default_factory=list)

    def as_columns(self) -> dict:
        return {"created_at": self.created_at, "updated_at": self.updated_at,
                "created_by": self.created_by, "last_commit": self.last_commit}


@dataclass(slots=True)
class GitMeta:
    """Per-file history keyed by the path relative to the catalog root (posix)."""

    files: dict[str, FileHistory] = field(default_factory=dict)
    head: str | None = None
    note: str | None = None


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    command = ["git", "--literal-pathspecs", "-c", "core.quotepath=off", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    except OSError:
        return datetime.now(UTC).replace(tzinfo=None)


def repository_of(root: Path) -> tuple[str, str | None] | None:
    """`root`'s posix prefix inside its Git work tree and the HEAD commit (None before the
    first commit), or None outside any repository. One `git` process."""
    try:
        done = _git(root, "rev-parse", "--show-toplevel", "--show-prefix", "HEAD")
    except OSError:
        return None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    if len(lines) < 2:
        return None
    head = lines[2].strip() if done.returncode == 0 and len(lines) > 2 else None
    return lines[1], head or None


def head_commit(root: Path) -> str | None:
    """The commit checked out in the repository holding `root`, or None."""
    located = repository_of(root)
    return located[1] if located else None


def _parse_log(output: str, prefix: str, present: set[str]) -> dict[str, FileHistory]:
    """Walk `git log` output (newest first) into the histories of the files present today.

    `owner` maps a path as it was at the commit being read to the file it is today (None:
    not a file of today, e.g. the path before a file was re-added or renamed there).
    """
    histories: dict[str, FileHistory] = {}
    owner: dict[str, str | None] = {}
    for chunk in output.split(_RECORD):
        if not chunk:
            continue
        header, _, body = chunk.partition("\0")
        sha, name, email, stamp, subject = header.split(_FIELD, 4)
        commit = Commit(sha, name, email,
                        datetime.fromtimestamp(int(stamp), UTC).replace(tzinfo=None), subject)
        fields = body.lstrip("\n").split("\0")
        i = 0
        while i + 1 < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                old, new, i = fields[i + 1], fields[i + 2], i + 3
            else:
                old = new = fields[i + 1]
                i += 2
            if new in owner:
                today = owner[new]
            else:
                rel = new[len(prefix):] if new.startswith(prefix) else None
                today = rel if rel in present else None
            if today is None:
                continue
            if status == "D":
                owner[new] = None  # deleted in Git, present again as an uncommitted file
                continue
            history = histories.get(today)
            if history is None:
                history = histories[today] = FileHistory(
                    commit.committed_at, commit.committed_at, last_commit=commit.commit)
            history.created_at = commit.committed_at
            history.created_by = commit.author_name
            if len(history.commits) < RECENT_COMMITS:
                history.commits.append(commit)
            if status in "ARC":
                owner[new] = None
            if status == "R":
                owner[old] = today
    return histories


def _modified(prefix: str, root: Path, pathspec: list[str]) -> set[str]:
    """Catalog files (relative to the catalog) with uncommitted changes in the work tree."""
    done = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no",
                "--no-renames", "--", *pathspec)
    if done.returncode != 0:
        return set()
    changed: set[str] = set()
    for entry in done.stdout.decode("utf-8", "replace").split("\0"):
        if len(entry) > 3 and entry[1] in "MT":
            path = entry[3:]
            if path.startswith(prefix):
                changed.add(path[len(prefix):])
    return changed


PATHSPEC_LIMIT = 200
"""Up to this many files are named to `git log`; more read the whole catalog's history."""


def collect(root: Path, present: Iterable[str], only: bool = False) -> GitMeta:
    """History of each file in `present` (paths relative to `root`), in one pass over Git.

    With `only`, the log is limited to those files (incremental updates); renames are then
    followed only among them. Never raises for a missing repository or a failing Git: the
    metadata then comes from the filesystem and `note` says why.
    """
    root = Path(root)
    present = set(present)
    meta = GitMeta()
    located = repository_of(root)
    if located is None:
        meta.note = (f"{root} is not inside a Git repository: created/updated dates come from "
                     "file modification times and authors are unknown")
    else:
        prefix, meta.head = located
        pathspec = sorted(present) if only and len(present) <= PATHSPEC_LIMIT else ["."]
        if meta.head is not None and pathspec:
            done = _git(root, "log", "-z", "--name-status", "-M", f"--format={_FORMAT}",
                        "HEAD", "--", *pathspec)
            if done.returncode == 0:
                meta.files = _parse_log(done.stdout.decode("utf-8", "replace"), prefix, present)
                for path in _modified(prefix, root, pathspec) & meta.files.keys():
                    meta.files[path].updated_at = _mtime(root / path)
            else:
                meta.note = ("git log failed (" + done.stderr.decode("utf-8", "replace")
                             .strip().splitlines()[0] + "): dates come from the filesystem")
    for path in present - meta.files.keys():
        stamp = _mtime(root / path)
        meta.files[path] = FileHistory(stamp, stamp)
    return meta
