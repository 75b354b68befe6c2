"""Bring an existing index up to the catalog as it is now, re-reading only what differs.

A full build of 100k entities takes most of a minute; a runner restarting after a pull, or
a new replica given a `catalog.duckdb` built by CI at an earlier commit (`GANTRY_INDEX_SEED`),
usually differs from its index in a handful of files. `catch_up` finds those files — the
ones whose content differs from the index's `files` table (a stat each, a hash when size or
mtime moved) and the ones Git commits touched since the index's commit — and updates just
them with `update_files`. It declines (returns None) when a full build is the right answer:
another schema or Gantry version, history rewritten past the index's commit, or more than
`limit` files to re-read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .. import __version__
from . import gitmeta
from .build import file_sha256, previous_index, stat_catalog
from .incremental import update_files
from .schema import IndexUnusable

CATCH_UP_LIMIT = 5_000
"""More differing files than this are read faster by a full build."""


@dataclass(slots=True)
class CatchUp:
    """What `catch_up` did: the files it re-read and the refs whose rows changed."""

    files: list[str] = field(default_factory=list)
    changed_refs: set[str] = field(default_factory=set)
    rehashed: int = 0
    """Files hashed because their size or mtime differed from the index's (a fresh clone)."""


def catch_up(index: Path, catalog_root: Path, *, limit: int = CATCH_UP_LIMIT
             ) -> CatchUp | None:
    """Update `index` to the catalog's current files; None when a full build is needed."""
    root = Path(catalog_root)
    notes: list[str] = []
    previous = previous_index(Path(index), notes)
    meta = previous.meta
    if notes or not meta or meta.get("gantry_version") != __version__:
        return None
    recorded = meta.get("git_commit") or None
    if recorded is not None and gitmeta.object_id(recorded) is None:
        return None  # not a commit id: nothing of it goes to git; a full build follows
    touched = _touched_since(root, recorded)
    if touched is None:
        return None
    result = CatchUp()
    current = stat_catalog(root)
    moved: dict[str, int] = {}
    differing = set(touched.files) | (previous.files.keys() - current.keys())
    for rel, (size, mtime_ns) in current.items():
        old = previous.files.get(rel)
        if old is None:
            differing.add(rel)
        elif old.size != size:
            differing.add(rel)
        elif old.mtime_ns != mtime_ns and rel not in differing:
            result.rehashed += 1
            if file_sha256(root / rel) != old.sha256:
                differing.add(rel)
            else:
                moved[rel] = mtime_ns
        if len(differing) > limit:
            return None
    result.files = sorted(differing)
    try:
        if result.files:
            result.changed_refs = update_files(index, root, result.files)
        elif touched.moved:
            _record_head(index, root)
    except (IndexUnusable, duckdb.Error):
        return None
    _record_mtimes(index, moved)
    return result


@dataclass(frozen=True, slots=True)
class _Touched:
    """Catalog files that commits after the index's commit touched; `moved` when HEAD is
    another commit than the index's."""

    files: frozenset[str]
    moved: bool


def _touched_since(root: Path, since: str | None) -> _Touched | None:
    """What commits after `since` touched; None when `since` is not an ancestor of HEAD
    (history rewritten) or Git cannot say."""
    located = gitmeta.repository_of(root)
    if located is None:
        return None if since else _Touched(frozenset(), False)
    prefix, head = located
    if (head or None) == since:
        return _Touched(frozenset(), False)
    if not since or not head:
        return None
    if gitmeta.run_git(root, "merge-base", "--is-ancestor", since, head).returncode != 0:
        return None
    done = gitmeta.run_git(root, "log", "-z", "--name-only", "--no-renames", "--format=",
                        f"{since}..{head}")
    if done.returncode != 0:
        return None
    names = (name.strip("\n") for name in done.stdout.decode("utf-8", "replace").split("\0"))
    return _Touched(frozenset(name[len(prefix):] for name in names
                              if name and name.startswith(prefix)), True)


def _record_head(index: Path, root: Path) -> None:
    """Move the index's commit to HEAD when the commits since touched no catalog file."""
    head = gitmeta.head_commit(root) or ""
    con = duckdb.connect(str(index))
    try:
        con.execute("UPDATE meta SET value = ? WHERE key = 'git_commit'", [head])
    finally:
        con.close()


def _record_mtimes(index: Path, moved: dict[str, int]) -> None:
    """Store the new mtimes of files whose content did not change, in one statement, so the
    next start does not hash them again (a seed index comes from another clone)."""
    if not moved:
        return
    con = duckdb.connect(str(index))
    try:
        con.execute("UPDATE files SET mtime_ns = moved.mtime_ns FROM "
                    "(SELECT unnest(?) AS path, unnest(?) AS mtime_ns) AS moved "
                    "WHERE files.path = moved.path", [list(moved), list(moved.values())])
    finally:
        con.close()


__all__ = ["CATCH_UP_LIMIT", "CatchUp", "catch_up"]
