"""Update an existing index in place for a few changed files: the runner's path after a
write or a pull.

Only the changed files are read. Their entities' rows are replaced; then every entity whose
declared references could resolve differently (because an entity appeared, disappeared or
was renamed) has its edges re-resolved from `declared_refs`, so an edge to a deleted entity
goes away and a reference that becomes resolvable gains its edge. Everything happens in one
transaction: readers see the index before or after the update, never half of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb

from ..load import MKDOCS_FILES, YAML_SUFFIXES, FileInfo, load_file
from ..score.evaluate import rescore
from ..selection import exclusions_for
from ..structure.backstage import INVERSE_TYPES
from ..structure.entity import Entity, parse_ref
from . import gitmeta
from .build import index_path_for
from .graph import carry_graph_forward
from .relations import Declared, Edge, candidates, declared_rows, resolve_rows
from .rows import ENTITY_INSERT, STAGED_COLUMNS, bulk_insert, staged_row
from .schema import COLUMNS, check_version, open_index, read_meta
from .search import carry_search_forward


def _normalise(path: str) -> str | None:
    """A relative posix path inside the catalog, or None for one that cannot be there."""
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return pure.as_posix()


def _indexable(root: Path, rel: str) -> bool:
    """True for an existing YAML file outside hidden folders (what a full build reads)."""
    parts = rel.split("/")
    return (rel.endswith(YAML_SUFFIXES) and not any(p.startswith(".") for p in parts)
            and parts[-1] not in MKDOCS_FILES and (root / rel).is_file())


LITERAL_LIST = 8
"""Up to this many values go in `IN (?, ...)`, which DuckDB answers from the ART index;
more are passed as one list, whose join is cheaper than a long literal list."""


def _in_list(column: str, values: list[str]) -> str:
    """`column IN ...` for `values` (not empty); pass `_bind(values)` as its parameters."""
    if len(values) <= LITERAL_LIST:
        return f"{column} IN ({', '.join('?' * len(values))})"
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))"


def _bind(values: list[str]) -> list:
    """The parameters of `_in_list(column, values)`."""
    return list(values) if len(values) <= LITERAL_LIST else [list(values)]


def update_files(index_path: Path, catalog_root: Path, changed: list[str],
                 con: duckdb.DuckDBPyConnection | None = None) -> set[str]:
    """Re-read `changed` files (relative posix paths; deleted files allowed) into the index.

    Returns the refs whose rows changed: entities added, changed or removed, and entities
    whose edges changed (both ends). Raises IndexUnusable when the index is missing or of
    another schema version (then a full build is needed).

    `con` is an open read-write connection to the index, for callers that keep one (the
    runner): opening a 100k-entity index and checkpointing it on close cost more than the
    update itself. Without it the index is opened and closed here.
    """
    root = Path(catalog_root)
    paths = sorted({p for p in map(_normalise, changed) if p is not None})
    if not paths:
        return set()
    excluded = exclusions_for(root)  # gantry.yaml's `exclude`: read as a deleted file
    present = [rel for rel in paths if _indexable(root, rel) and not excluded.excluded(rel)]
    loaded: list[Entity] = []
    infos: dict[str, FileInfo] = {}
    for rel in present:
        entities, _problems, info = load_file(root, rel, "")
        loaded += [e for e in entities if e.kind and e.name]
        if info is not None:
            infos[rel] = info
    index = index_path_for(Path(index_path))
    own = con is None
    if con is None:
        con = open_index(index, read_only=False)
    else:
        check_version(con)
    try:
        meta = read_meta(con)
        history = gitmeta.collect_since(root, present, meta.get("git_commit"),
                                        _known_histories(con, present))
        old_revision, revision = meta.get("revision"), uuid.uuid4().hex
        con.begin()
        try:
            change = _apply(con, paths, loaded, infos, history, index.parent)
            con.execute("DELETE FROM meta WHERE key IN ('git_commit', 'updated_at', "
                        "'revision')")
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("git_commit", history.head or ""),
                ("updated_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("revision", revision)])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        rescored = rescore(con, change.changed_refs)
        _carry_forward(con, old_revision, revision, change)
    finally:
        if own:
            con.close()
    return change.changed_refs | rescored


@dataclass(frozen=True, slots=True)
class _Change:
    """What an update did: the entities of the changed files and the edges that moved."""

    old_refs: set[str]
    new_refs: set[str]
    removed: set[Edge]
    added: set[Edge]

    @property
    def changed_refs(self) -> set[str]:
        """Entities added, changed or removed, and both ends of every edge that moved."""
        ends = {ref for edge in self.removed | self.added for ref in (edge[0], edge[2])}
        return self.old_refs | self.new_refs | ends


def _carry_forward(con: duckdb.DuckDBPyConnection, old: str | None, new: str,
                   change: _Change) -> None:
    """Move this process's search and graph structures to the new revision, no reload."""
    carry_search_forward(con, old, new, change.old_refs | change.new_refs)
    carry_graph_forward(con, old, new, change.old_refs - change.new_refs, change.new_refs,
                        change.removed, change.added)


def _apply(con: duckdb.DuckDBPyConnection, paths: list[str], loaded: list[Entity],
           infos: dict[str, FileInfo], history: gitmeta.GitMeta, folder: Path) -> _Change:
    """Replace the rows of `paths`, re-resolve the edges that may move."""
    old_refs = {r for (r,) in con.execute(
        f"DELETE FROM entities WHERE {_in_list('path', paths)} RETURNING ref",
        _bind(paths)).fetchall()}
    if old_refs:
        gone = sorted(old_refs)
        con.execute(f"DELETE FROM declared_refs WHERE {_in_list('source', gone)}", _bind(gone))
    for table in ("files", "file_commits"):
        con.execute(f"DELETE FROM {table} WHERE {_in_list('path', paths)}", _bind(paths))
    taken: set[str] = set()
    if loaded:
        wanted = [e.ref for e in loaded]
        taken = {r for (r,) in con.execute(
            f"SELECT ref FROM entities WHERE {_in_list('ref', wanted)}",
            _bind(wanted)).fetchall()}
    entities: list[Entity] = []
    for entity in loaded:
        if entity.ref not in taken:  # a duplicate of an entity in an unchanged file
            taken.add(entity.ref)
            entities.append(entity)
    new_refs = {e.ref for e in entities}
    bulk_insert(con, "entities", STAGED_COLUMNS,
                [staged_row(e, history.files.get(e.path)) for e in entities], folder,
                select=ENTITY_INSERT)
    declared = [row for e in entities for row in declared_rows(e)]
    bulk_insert(con, "declared_refs", COLUMNS["declared_refs"], declared, folder)
    bulk_insert(con, "files", COLUMNS["files"], [
        (rel, info.sha256, info.size, info.mtime_ns) for rel, info in infos.items()], folder)
    bulk_insert(con, "file_commits", COLUMNS["file_commits"], [
        (rel, c.commit, c.author_name, c.author_email, c.committed_at, c.message)
        for rel in infos for c in history.files[rel].commits], folder)

    appeared_or_gone = (new_refs - old_refs) | (old_refs - new_refs)
    affected = _referrers(con, appeared_or_gone) - new_refs
    # The edges of a changed or affected entity are derived again: those it is the source
    # of, and those pointing at it that may come from its own references (Backstage's
    # inverse relations: `children` on a Group gives the child its `childOf`). The other
    # ends' declarations are read too, and only edges touching these entities kept.
    redo = old_refs | affected
    before: set[Edge] = set()
    if redo:
        ends, inverse = sorted(redo), sorted(INVERSE_TYPES)
        before = set(con.execute(
            f"DELETE FROM relations WHERE {_in_list('source', ends)} OR "
            f"({_in_list('target', ends)} AND {_in_list('type', inverse)}) "
            "RETURNING source, type, target",
            _bind(ends) + _bind(ends) + _bind(inverse)).fetchall())
    touching = redo | new_refs
    others = {ref for edge in before for ref in (edge[0], edge[2])} - touching
    rows = declared + _declared_by(con, (affected | others) - new_refs)
    asked = sorted({ref for row in rows for ref in candidates(row)})
    known: set[str] = set()
    if asked:
        known = {r for (r,) in con.execute(
            f"SELECT ref FROM entities WHERE {_in_list('ref', asked)}", _bind(asked)).fetchall()}
    after = {edge for edge in resolve_rows(rows, known)  # the shape of what was deleted
             if edge[0] in touching or (edge[2] in touching and edge[1] in INVERSE_TYPES)}
    bulk_insert(con, "relations", COLUMNS["relations"], sorted(after), folder)
    return _Change(old_refs, new_refs, before - after, after - before)


def _known_histories(con: duckdb.DuckDBPyConnection, paths: list[str]
                     ) -> dict[str, gitmeta.FileHistory]:
    """What the index holds about the Git history of `paths` (those with entities)."""
    if not paths:
        return {}
    known = {path: gitmeta.FileHistory(created, updated, author, last) for
             path, created, updated, author, last in con.execute(
                 "SELECT path, any_value(created_at), any_value(updated_at), "
                 "any_value(created_by), any_value(last_commit) FROM entities "
                 f"WHERE {_in_list('path', paths)} GROUP BY path", _bind(paths)).fetchall()}
    for path, *commit in con.execute(
            "SELECT path, commit, author_name, author_email, committed_at, message "
            f"FROM file_commits WHERE {_in_list('path', paths)} "
            "ORDER BY path, committed_at DESC", _bind(paths)).fetchall():
        if path in known:
            known[path].commits.append(gitmeta.Commit(*commit))
    return known


def _declared_by(con: duckdb.DuckDBPyConnection, sources: set[str]) -> list[Declared]:
    if not sources:
        return []
    wanted = sorted(sources)
    return con.execute(f"SELECT source, type, kind, namespace, name FROM declared_refs "
                       f"WHERE {_in_list('source', wanted)}", _bind(wanted)).fetchall()


def _referrers(con: duckdb.DuckDBPyConnection, refs: set[str]) -> set[str]:
    """Entities declaring a reference that names one of `refs` (kind and name match)."""
    if not refs:
        return set()
    wanted = {(kind, name) for kind, _, name in map(parse_ref, refs)}
    names = sorted({name for _, name in wanted})
    rows = con.execute("SELECT source, lower(kind), name FROM declared_refs "
                       f"WHERE {_in_list('name', names)}", _bind(names)).fetchall()
    return {source for source, kind, name in rows if (kind, name) in wanted}
