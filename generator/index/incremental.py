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
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb

from ..load import YAML_SUFFIXES, FileInfo, load_file
from ..structure.entity import Entity, parse_ref
from . import gitmeta
from .build import index_path_for
from .relations import Declared, Edge, candidates, declared_rows, resolve_rows
from .rows import ENTITY_INSERT, STAGED_COLUMNS, bulk_insert, staged_row
from .schema import COLUMNS, open_index


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
            and (root / rel).is_file())


def _in_list(column: str) -> str:
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))"


def update_files(index_path: Path, catalog_root: Path, changed: list[str]) -> set[str]:
    """Re-read `changed` files (relative posix paths; deleted files allowed) into the index.

    Returns the refs whose rows changed: entities added, changed or removed, and entities
    whose edges changed (both ends). Raises IndexUnusable when the index is missing or of
    another schema version (then a full build is needed).
    """
    root = Path(catalog_root)
    paths = sorted({p for p in map(_normalise, changed) if p is not None})
    if not paths:
        return set()
    present = [rel for rel in paths if _indexable(root, rel)]
    loaded: list[Entity] = []
    infos: dict[str, FileInfo] = {}
    for rel in present:
        entities, _problems, info = load_file(root, rel, "")
        loaded += [e for e in entities if e.kind and e.name]
        if info is not None:
            infos[rel] = info
    history = gitmeta.collect(root, present, only=True)
    index = index_path_for(Path(index_path))
    con = open_index(index, read_only=False)
    try:
        con.begin()
        try:
            result = _apply(con, paths, loaded, infos, history, index.parent)
            con.execute("DELETE FROM meta WHERE key IN ('git_commit', 'updated_at', "
                        "'revision')")
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("git_commit", history.head or ""),
                ("updated_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("revision", uuid.uuid4().hex)])
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.close()
    return result


def _apply(con: duckdb.DuckDBPyConnection, paths: list[str], loaded: list[Entity],
           infos: dict[str, FileInfo], history: gitmeta.GitMeta, folder: Path) -> set[str]:
    """Replace the rows of `paths`, re-resolve the edges that may move; the changed refs."""
    old_refs = {r for (r,) in con.execute(
        f"DELETE FROM entities WHERE {_in_list('path')} RETURNING ref", [paths]).fetchall()}
    old_edges: set[Edge] = set()
    if old_refs:
        old_edges = set(con.execute(
            f"DELETE FROM relations WHERE {_in_list('source')} RETURNING source, type, target",
            [sorted(old_refs)]).fetchall())
        con.execute(f"DELETE FROM declared_refs WHERE {_in_list('source')}", [sorted(old_refs)])
    for table in ("files", "file_commits"):
        con.execute(f"DELETE FROM {table} WHERE {_in_list('path')}", [paths])
    taken: set[str] = set()
    if loaded:
        taken = {r for (r,) in con.execute(f"SELECT ref FROM entities WHERE {_in_list('ref')}",
                                           [[e.ref for e in loaded]]).fetchall()}
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
    before = set(old_edges)
    if affected:
        before |= set(con.execute(
            f"DELETE FROM relations WHERE {_in_list('source')} RETURNING source, type, target",
            [sorted(affected)]).fetchall())
    rows = declared + _declared_by(con, affected)
    asked = sorted({ref for row in rows for ref in candidates(row)})
    known: set[str] = set()
    if asked:
        known = {r for (r,) in con.execute(
            f"SELECT ref FROM entities WHERE {_in_list('ref')}", [asked]).fetchall()}
    after = set(resolve_rows(rows, known))
    bulk_insert(con, "relations", COLUMNS["relations"], sorted(after), folder)
    moved = before ^ after
    return old_refs | new_refs | {e[0] for e in moved} | {e[2] for e in moved}


def _declared_by(con: duckdb.DuckDBPyConnection, sources: set[str]) -> list[Declared]:
    if not sources:
        return []
    return con.execute(f"SELECT source, type, kind, namespace, name FROM declared_refs "
                       f"WHERE {_in_list('source')}", [sorted(sources)]).fetchall()


def _referrers(con: duckdb.DuckDBPyConnection, refs: set[str]) -> set[str]:
    """Entities declaring a reference that names one of `refs` (kind and name match)."""
    if not refs:
        return set()
    keys = sorted({f"{kind}/{name}" for kind, _, name in map(parse_ref, refs)})
    return {s for (s,) in con.execute(
        "SELECT DISTINCT source FROM declared_refs WHERE lower(kind) || '/' || name IN "
        "(SELECT unnest(?::VARCHAR[]))", [keys]).fetchall()}
