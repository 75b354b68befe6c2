"""Write `catalog.duckdb` from the catalog: atomically, and almost free when nothing changed.

The previous index's `files` table is a content-hash cache: files are stat'ed first and
hashed only when size or mtime changed. When no file changed, the Git HEAD is the same and
the previous index has this schema version, the index is left as it is. Otherwise a new
index is written to a temporary file beside the old one and moved over it with
`os.replace`, so readers see the old or the new index, never a partial one; the refs whose
rows differ from the previous index are reported for selective site rebuilds. The old
file's write-ahead log goes with it (`replace_index`): DuckDB would replay it into the new
file and refuse to open it ("WAL does not match database file").
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from .. import __version__
from ..load import FileInfo, catalog_files, load_catalog
from ..score.evaluate import score_all
from ..structure.entity import Entity
from . import gitmeta
from .relations import declared_rows, resolve_rows
from .rows import ENTITY_INSERT, STAGED_COLUMNS, bulk_insert, staged_row
from .schema import (
    COLUMNS,
    SCHEMA_VERSION,
    IndexUnusable,
    create_indexes,
    create_tables,
    open_index,
    read_meta,
)

INDEX_NAME = "catalog.duckdb"
BUILD_MEMORY = "500MB"
"""DuckDB's memory cap while building: it spills to disk rather than grow past it."""


class _Validated(Protocol):
    entities: list[Entity]
    files: dict[str, FileInfo]


@dataclass(slots=True)
class IndexStats:
    """What a build did. `changed_refs` is None when every page must be rebuilt."""

    path: Path
    entities: int = 0
    relations: int = 0
    files: int = 0
    files_reread: int = 0
    unchanged: bool = False
    seconds: float = 0.0
    changed_refs: set[str] | None = None
    notes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds of each step of a full build, in order (`gantry build --timings`)."""


@dataclass(frozen=True, slots=True)
class _FileState:
    sha256: str
    size: int
    mtime_ns: int


def index_path_for(out_path: Path) -> Path:
    """`out_path` itself when it names a file, `out_path/catalog.duckdb` for a folder."""
    out_path = Path(out_path)
    if out_path.is_dir() or out_path.suffix != ".duckdb":
        return out_path / INDEX_NAME
    return out_path


def wal_of(index: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file (`<file>.wal`)."""
    return index.with_name(index.name + ".wal")


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where directories cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def replace_index(new: Path, index: Path) -> None:
    """Move the finished, checkpointed database `new` over `index`, atomically.

    The log of the old file belongs to the old file only, so it is removed first: a stop
    between the two steps leaves the old file at its last checkpoint (a consistent, older
    index that the next build brings up to date), never a log beside a file it does not
    match. Any log left by `new` is removed too.
    """
    with open(new, "rb+") as handle:
        os.fsync(handle.fileno())
    wal_of(index).unlink(missing_ok=True)
    os.replace(new, index)
    wal_of(new).unlink(missing_ok=True)
    _fsync_dir(index.parent)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(slots=True)
class PreviousIndex:
    """What the existing index tells about itself; empty when there is none or it is unusable."""

    files: dict[str, _FileState] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    entities: int = 0
    relations: int = 0


def previous_index(index: Path, notes: list[str]) -> PreviousIndex:
    """The previous index's file cache, meta and counts; a note when it cannot be used."""
    if not index.exists():
        return PreviousIndex()
    try:
        con = open_index(index)
    except IndexUnusable as exc:
        notes.append(f"the existing index {index} was not reused: {exc}; rebuilt from scratch")
        return PreviousIndex()
    try:
        files = {path: _FileState(sha, size, mtime) for path, sha, size, mtime in
                 con.execute("SELECT path, sha256, size, mtime_ns FROM files").fetchall()}
        entities, relations = con.execute("SELECT (SELECT count(*) FROM entities), "
                                          "(SELECT count(*) FROM relations)").fetchone()
        return PreviousIndex(files, read_meta(con), entities, relations)
    finally:
        con.close()


def stat_catalog(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every catalog file: the cheap first look of the cache."""
    found: dict[str, tuple[int, int]] = {}
    base = str(root)
    for rel in catalog_files(root):
        try:
            stat = os.stat(os.path.join(base, rel))  # a str join: pathlib costs more here
        except OSError:
            continue
        found[rel] = (stat.st_size, stat.st_mtime_ns)
    return found


def _unchanged(root: Path, cached: dict[str, _FileState], stats: IndexStats
               ) -> dict[str, _FileState] | None:
    """The files' states when their content equals the cache's, else None.

    Only files whose size or mtime moved are hashed; one differing hash ends the look.
    """
    current = stat_catalog(root)
    if current.keys() != cached.keys():
        return None
    states: dict[str, _FileState] = {}
    for rel, (size, mtime_ns) in current.items():
        old = cached[rel]
        if old.size == size and old.mtime_ns == mtime_ns:
            states[rel] = old
            continue
        stats.files_reread += 1
        if size != old.size or file_sha256(root / rel) != old.sha256:
            return None
        states[rel] = _FileState(old.sha256, size, mtime_ns)
    return states


def _touch_only(index: Path, states: dict[str, _FileState], cached: dict[str, _FileState]
                ) -> None:
    """Record new mtimes of files whose content did not change, so they are not rehashed."""
    moved = [(s.mtime_ns, path) for path, s in states.items() if cached[path] != s]
    if not moved:
        return
    try:
        con = duckdb.connect(str(index))
    except duckdb.Error:
        return  # another process holds the index; the files are simply hashed again later
    try:
        con.executemany("UPDATE files SET mtime_ns = ? WHERE path = ?", moved)
    finally:
        con.close()


def current_index(catalog_root: Path, out_path: Path) -> IndexStats | None:
    """Stats of the existing index when it still matches the catalog, else None.

    Matches means: readable, this schema version, the same Git HEAD and every file's content
    unchanged. Cheap (a stat per file) so `gantry build` can skip validation as well.
    """
    started = time.perf_counter()
    root = Path(catalog_root)
    index = index_path_for(Path(out_path))
    stats = IndexStats(path=index)
    previous = previous_index(index, stats.notes)
    meta = previous.meta
    if not meta or meta.get("gantry_version") != __version__ or \
            meta.get("git_commit", "") != (gitmeta.head_commit(root) or ""):
        return None
    states = _unchanged(root, previous.files, stats)
    if states is None:
        return None
    _touch_only(index, states, previous.files)
    stats.entities, stats.relations = previous.entities, previous.relations
    stats.files, stats.unchanged, stats.changed_refs = len(states), True, set()
    stats.seconds = time.perf_counter() - started
    return stats


def build_index(catalog_root: Path, out_path: Path, validation: _Validated | None = None
                ) -> IndexStats:
    """Write the index of `catalog_root` to `out_path` (a `.duckdb` file or a folder).

    `validation` (a ValidationResult) supplies the entities and file hashes already read;
    without it the catalog is loaded here. Raises FileNotFoundError for a missing catalog
    folder and OSError when the index cannot be written; the previous index then stays.
    """
    started = time.perf_counter()
    root = Path(catalog_root)
    if not root.is_dir():
        raise FileNotFoundError(f"catalog folder not found: {root}")
    current = current_index(root, out_path)
    if current is not None:
        current.seconds = time.perf_counter() - started
        return current
    index = index_path_for(Path(out_path))
    stats = IndexStats(path=index)
    meta = previous_index(index, stats.notes).meta
    loaded = validation if validation is not None else load_catalog(root)
    files = {rel: _FileState(info.sha256, info.size, info.mtime_ns)
             for rel, info in getattr(loaded, "files", {}).items()}
    stats.files_reread = len(files)
    lap = time.perf_counter()
    history = gitmeta.collect(root, files.keys())
    lap = _lap(stats, "git metadata", lap)
    if history.note:
        stats.notes.append(history.note)
    index.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{index.name}.", dir=index.parent))
    temp = work / index.name
    try:
        con = duckdb.connect(str(temp), config={
            "memory_limit": BUILD_MEMORY,
            "temp_directory": str(work / "spill")})
        try:
            create_tables(con)
            stats.entities, stats.relations = _write(con, loaded.entities, files, history, work)
            lap = _lap(stats, "index rows", lap)
            score_all(con)
            lap = _lap(stats, "scoring", lap)
            create_indexes(con)
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema_version", str(SCHEMA_VERSION)),
                ("built_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("git_commit", history.head or ""),
                ("gantry_version", __version__),
                ("git_note", history.note or ""),
                ("revision", uuid.uuid4().hex),
            ])
            if meta:
                stats.changed_refs = _changed_refs(con, index)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        replace_index(temp, index)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _lap(stats, "index finish", lap)
    stats.files = len(files)
    stats.seconds = time.perf_counter() - started
    return stats


def _lap(stats: IndexStats, phase: str, since: float) -> float:
    """Record the seconds since `since` as `phase`; the new lap's start."""
    now = time.perf_counter()
    stats.phases[phase] = now - since
    return now


def _unique(entities: Iterable[Entity]) -> Iterator[Entity]:
    """Entities with a kind and a name, first one of each ref (the validator flags the rest)."""
    seen: set[str] = set()
    for entity in entities:
        if not entity.kind or not entity.name or entity.ref in seen:
            continue
        seen.add(entity.ref)
        yield entity


def _write(con: duckdb.DuckDBPyConnection, entities: Iterable[Entity],
           states: dict[str, _FileState], history: gitmeta.GitMeta, folder: Path
           ) -> tuple[int, int]:
    # Rows in name order, whatever order the files were read in: the same catalog always
    # gives the same file.
    ordered = sorted(_unique(entities), key=lambda e: (e.name, e.ref))
    known = {e.ref for e in ordered}
    count = bulk_insert(con, "entities", STAGED_COLUMNS,
                        (staged_row(e, history.files.get(e.path)) for e in ordered), folder,
                        select=ENTITY_INSERT)
    declared = [row for entity in ordered for row in declared_rows(entity)]
    bulk_insert(con, "declared_refs", COLUMNS["declared_refs"], declared, folder)
    relations = bulk_insert(con, "relations", COLUMNS["relations"],
                            resolve_rows(declared, known), folder)
    bulk_insert(con, "file_commits", COLUMNS["file_commits"], (
        (path, c.commit, c.author_name, c.author_email, c.committed_at, c.message)
        for path in sorted(history.files) for c in history.files[path].commits), folder)
    bulk_insert(con, "files", COLUMNS["files"], (
        (path, s.sha256, s.size, s.mtime_ns) for path, s in sorted(states.items())), folder)
    return count, relations


_ROW_DIGEST = ("md5(concat_ws('|', data::VARCHAR, path, line, end_line, created_at, "
               "updated_at, created_by, last_commit))")


def _changed_refs(con: duckdb.DuckDBPyConnection, previous: Path) -> set[str] | None:
    """Refs whose row or edges differ from the previous index; None when it can't be read."""
    try:
        con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous)])
    except duckdb.Error:
        return None
    try:
        rows = con.execute(f"""
            WITH now AS (SELECT ref, {_ROW_DIGEST} AS digest FROM entities),
                 before AS (SELECT ref, {_ROW_DIGEST} AS digest FROM previous.entities),
                 rows AS ((SELECT * FROM now EXCEPT SELECT * FROM before)
                          UNION ALL (SELECT * FROM before EXCEPT SELECT * FROM now)),
                 edges AS ((SELECT * FROM relations EXCEPT SELECT * FROM previous.relations)
                           UNION ALL
                           (SELECT * FROM previous.relations EXCEPT SELECT * FROM relations)),
                 scores AS ((SELECT * FROM scorecard_results
                             EXCEPT SELECT * FROM previous.scorecard_results)
                            UNION ALL
                            (SELECT * FROM previous.scorecard_results
                             EXCEPT SELECT * FROM scorecard_results))
            SELECT ref FROM rows
            UNION SELECT source FROM edges
            UNION SELECT target FROM edges
            UNION SELECT ref FROM scores""").fetchall()
        return {row[0] for row in rows}
    except duckdb.Error:
        return None
    finally:
        con.execute("DETACH previous")

