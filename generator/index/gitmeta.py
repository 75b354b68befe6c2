"""Created/updated dates and authors of catalog files, from one pass over the Git history.

One `git log --raw -M -z` over the catalog folder yields, newest first, every commit and
the files it touched. Walking it once, with renames followed back to the older
name, gives each current file its first and last commit: 100k files cost one process, not
100k. Files Git does not know, and committed files with local modifications, take their
modification time (and no author for the former). A catalog outside any Git repository
gets filesystem metadata and a note.
"""

from __future__ import annotations

import hashlib
import os
import re
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
    blob: str | None = None
    """The file's Git object id at its last commit (to spot local modifications)."""
    started: bool = False
    """The log reached the commit that added the file (so `created_*` are final)."""

    def as_columns(self) -> dict:
        return {"created_at": self.created_at, "updated_at": self.updated_at,
                "created_by": self.created_by, "last_commit": self.last_commit}


@dataclass(slots=True)
class GitMeta:
    """Per-file history keyed by the path relative to the catalog root (posix)."""

    files: dict[str, FileHistory] = field(default_factory=dict)
    head: str | None = None
    note: str | None = None


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def object_id(value: object) -> str | None:
    """`value` when it is a full Git object id (SHA-1 or SHA-256), else None.

    Commits read back from an index file (its `git_commit`, possibly from a seed index made
    elsewhere) reach `git` as arguments: only a plain object id may, never an option."""
    return value if isinstance(value, str) and _OBJECT_ID.fullmatch(value) else None


def _command(*args: str) -> list[str]:
    return ["git", "--literal-pathspecs", "-c", "core.quotepath=off", *args]


_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def run_git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`git *args` in `cwd` without optional locks, output captured (generator's one way to
    run git; values from outside pass `object_id` or `--literal-pathspecs` first)."""
    return subprocess.run(_command(*args), cwd=cwd, env={**os.environ, **_ENV},
                          capture_output=True, check=False)


def _start(cwd: Path, *args: str) -> subprocess.Popen:
    """A `git` process running while the caller starts others (results via communicate)."""
    return subprocess.Popen(_command(*args), cwd=cwd, env={**os.environ, **_ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    except OSError:
        return datetime.now(UTC).replace(tzinfo=None)


_REV_PARSE = ("rev-parse", "--show-toplevel", "--show-prefix", "HEAD")


def repository_of(root: Path) -> tuple[str, str | None] | None:
    """`root`'s posix prefix inside its Git work tree and the HEAD commit (None before the
    first commit), or None outside any repository. One `git` process."""
    try:
        done = run_git(root, *_REV_PARSE)
    except OSError:
        return None
    return _located(done.stdout, done.returncode)


def _located(stdout: bytes, returncode: int) -> tuple[str, str | None] | None:
    lines = stdout.decode("utf-8", "replace").splitlines()
    if len(lines) < 2:
        return None
    head = lines[2].strip() if returncode == 0 and len(lines) > 2 else None
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
            # ":<old mode> <new mode> <old blob> <new blob> <status>", then the path(s)
            _, _, _, blob, status = fields[i].split(" ", 4)
            status = status[0]
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
                    commit.committed_at, commit.committed_at, last_commit=commit.commit,
                    blob=blob)
            history.created_at = commit.committed_at
            history.created_by = commit.author_name
            if len(history.commits) < RECENT_COMMITS:
                history.commits.append(commit)
            if status in "ARC":
                owner[new] = None
            if status == "R":
                owner[old] = today
            else:
                history.started = history.started or status in "AC"
    return histories


def _modified(prefix: str, output: bytes) -> set[str]:
    """Catalog files (relative to the catalog) that `git status -z` says are modified."""
    changed: set[str] = set()
    for entry in output.decode("utf-8", "replace").split("\0"):
        if len(entry) > 3 and entry[1] in "MT":
            path = entry[3:]
            if path.startswith(prefix):
                changed.add(path[len(prefix):])
    return changed


def _finish(processes: dict[str, subprocess.Popen]) -> dict[str, tuple[bytes, bytes, int]]:
    """(stdout, stderr, exit status) of each started process, once all have ended."""
    outputs = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate()
        outputs[name] = (stdout, stderr, process.returncode)
    return outputs


def _date_local_changes(root: Path, files: dict[str, FileHistory]) -> None:
    """Give files whose content differs from their last commit their mtime as updated_at."""
    for path, history in files.items():
        if _blob_id(root / path) != history.blob:
            history.updated_at = _mtime(root / path)


def _blob_id(path: Path) -> str | None:
    """The Git object id of the file's current content (what `git hash-object` prints)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


PATHSPEC_LIMIT = 200
"""Up to this many files are named to `git log`; more read the whole catalog's history."""


def collect(root: Path, present: Iterable[str], only: bool = False) -> GitMeta:
    """History of each file in `present` (paths relative to `root`), in one pass over Git.

    With `only`, the log is limited to those files (incremental updates); renames are then
    followed only among them. Never raises for a missing repository or a failing Git: the
    metadata then comes from the filesystem and `note` says why.

    The Git processes run side by side. Local modifications are found by `git status` for
    a whole catalog, and for a few files by comparing their content's object id with the
    one of their last commit: `git status` reads the whole Git index (megabytes at 100k
    files), which would dominate a one-file update.
    """
    root = Path(root)
    present = set(present)
    meta = GitMeta()
    pathspec = sorted(present) if only and len(present) <= PATHSPEC_LIMIT else ["."]
    processes: dict[str, subprocess.Popen] = {}
    try:
        processes["located"] = _start(root, *_REV_PARSE)
        if present:
            processes["log"] = _start(root, "log", "-z", "--raw", "--no-abbrev", "-M",
                                      f"--format={_FORMAT}", "HEAD", "--", *pathspec)
        if present and not only:
            processes["status"] = _start(root, "status", "--porcelain=v1", "-z",
                                         "--untracked-files=no", "--no-renames", "--", ".")
    except OSError:
        pass  # no git at all: the filesystem gives the dates
    outputs = _finish(processes)
    located = _located(*outputs["located"][::2]) if "located" in outputs else None
    if located is None:
        meta.note = (f"{root} is not inside a Git repository: created/updated dates come from "
                     "file modification times and authors are unknown")
    elif located[1] is not None and "log" in outputs:
        prefix, meta.head = located
        stdout, stderr, returncode = outputs["log"]
        if returncode == 0:
            meta.files = _parse_log(stdout.decode("utf-8", "replace"), prefix, present)
            if "status" in outputs:
                for path in _modified(prefix, outputs["status"][0]) & meta.files.keys():
                    meta.files[path].updated_at = _mtime(root / path)
            else:
                _date_local_changes(root, meta.files)
        else:
            meta.note = ("git log failed (" + stderr.decode("utf-8", "replace")
                         .strip().splitlines()[0] + "): dates come from the filesystem")
    for path in present - meta.files.keys():
        stamp = _mtime(root / path)
        meta.files[path] = FileHistory(stamp, stamp)
    return meta


def collect_since(root: Path, present: Iterable[str], since: str | None,
                  known: dict[str, FileHistory]) -> GitMeta:
    """`collect(only=True)` for a few changed files, reading only the commits after `since`
    (the commit the index was written at) and completing them with `known` (what the index
    holds about those files: creation and recent commits).

    A path-limited `git log` over the whole history compares, for every commit, the trees
    along the file's path; a folder of 25,000 files makes that about 7 ms a commit, so a
    long history would make every write slower than the last. Files that Git did not touch
    after `since`, files the index knows nothing about whose creation is older, and a
    `since` that is no longer an ancestor of HEAD (rewritten history) fall back to
    `collect(only=True)`.
    """
    root = Path(root)
    present = set(present)
    since = object_id(since)
    if not since or not present or len(present) > PATHSPEC_LIMIT:
        return collect(root, present, only=True)
    try:
        outputs = _finish({
            "located": _start(root, *_REV_PARSE),
            "ancestor": _start(root, "merge-base", "--is-ancestor", since, "HEAD"),
            "log": _start(root, "log", "-z", "--raw", "--no-abbrev", "-M",
                          f"--format={_FORMAT}", f"{since}..HEAD", "--", *sorted(present)),
        })
    except OSError:
        return collect(root, present, only=True)
    located = _located(*outputs["located"][::2])
    if located is None or located[1] is None or outputs["ancestor"][2] != 0 \
            or outputs["log"][2] != 0:
        return collect(root, present, only=True)
    prefix, head = located
    meta = GitMeta(head=head)
    for path, history in _parse_log(outputs["log"][0].decode("utf-8", "replace"), prefix,
                                    present).items():
        earlier = known.get(path)
        if not history.started:
            if earlier is None:
                continue
            history.created_at, history.created_by = earlier.created_at, earlier.created_by
            history.commits = (history.commits + earlier.commits)[:RECENT_COMMITS]
        meta.files[path] = history
    _date_local_changes(root, meta.files)
    rest = present - meta.files.keys()
    if rest:
        older = collect(root, rest, only=True)
        meta.files.update(older.files)
        meta.note = older.note
    return meta
