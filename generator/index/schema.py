"""The tables of `catalog.duckdb`: one place for the DDL and for deciding if a file is ours.

The schema is public (users query it with their own SQL) and versioned by
`meta.schema_version`. An index whose version differs, or a file that is not a DuckDB
database written by Gantry, is never read: the build replaces it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SCHEMA_VERSION = 3
"""Bumped on any change a reader could notice; documented in docs/index.md."""

COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "entities": (
        ("ref", "VARCHAR"), ("kind", "VARCHAR"), ("namespace", "VARCHAR"), ("name", "VARCHAR"),
        ("title", "VARCHAR"), ("description", "VARCHAR"), ("owner", "VARCHAR"),
        ("lifecycle", "VARCHAR"), ("type", "VARCHAR"), ("tags", "VARCHAR[]"),
        ("labels", "JSON"), ("annotations", "JSON"), ("spec", "JSON"), ("metadata", "JSON"),
        ("data", "JSON"), ("path", "VARCHAR"), ("line", "INTEGER"), ("end_line", "INTEGER"),
        ("created_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP"), ("created_by", "VARCHAR"),
        ("last_commit", "VARCHAR"), ("name_words", "VARCHAR"), ("title_words", "VARCHAR"),
        ("description_words", "VARCHAR"), ("search_text", "VARCHAR"),
    ),
    "relations": (("source", "VARCHAR"), ("type", "VARCHAR"), ("target", "VARCHAR")),
    "declared_refs": (
        ("source", "VARCHAR"), ("type", "VARCHAR"), ("kind", "VARCHAR"),
        ("namespace", "VARCHAR"), ("name", "VARCHAR"),
    ),
    "file_commits": (
        ("path", "VARCHAR"), ("commit", "VARCHAR"), ("author_name", "VARCHAR"),
        ("author_email", "VARCHAR"), ("committed_at", "TIMESTAMP"), ("message", "VARCHAR"),
    ),
    "files": (("path", "VARCHAR"), ("sha256", "VARCHAR"), ("size", "BIGINT"),
              ("mtime_ns", "BIGINT")),
    "scorecard_results": (("scorecard", "VARCHAR"), ("ref", "VARCHAR"), ("rule", "VARCHAR"),
                          ("passed", "BOOLEAN"), ("reason", "VARCHAR")),
    "scorecard_levels": (("scorecard", "VARCHAR"), ("ref", "VARCHAR"), ("level", "VARCHAR"),
                         ("score", "DOUBLE")),
    "meta": (("key", "VARCHAR"), ("value", "VARCHAR")),
}
"""Every table and its columns in order; docs/index.md documents each one."""

INDEXES: dict[str, tuple[str, str]] = {
    "entities_ref": ("entities", "ref"),
    "entities_path": ("entities", "path"),
    "relations_source": ("relations", "source"),
    "relations_target": ("relations", "target"),
    "declared_refs_source": ("declared_refs", "source"),
    "declared_refs_name": ("declared_refs", "name"),
    "files_path": ("files", "path"),
    "file_commits_path": ("file_commits", "path"),
    "scorecard_results_ref": ("scorecard_results", "ref"),
    "scorecard_levels_ref": ("scorecard_levels", "ref"),
}
"""ART indexes: name -> (table, column). They turn the lookups of search results and of
incremental updates (a few refs or paths among 100k rows) into point reads instead of
table scans; DuckDB uses them for `=` and `IN (...)` with literal values or parameters."""


class IndexUnusable(Exception):
    """The file exists but cannot serve as this version's index; the message says why."""


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of the current schema in an empty database."""
    for table, columns in COLUMNS.items():
        body = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        con.execute(f"CREATE TABLE {table} ({body})")


def create_indexes(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `INDEXES` (after the bulk insert: building them at the end is faster)."""
    for name in INDEXES:
        create_index(con, name)


def recreate_table(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Replace `table` by an empty one of the same columns, without its indexes; returns
    the names of the `INDEXES` it had, to create again (`create_index`) once it is filled.

    Deleting every row of a table with an ART index costs seconds per few 100,000 rows at
    commit; dropping it costs nothing.
    """
    present = {name for (name,) in con.execute(
        "SELECT index_name FROM duckdb_indexes() WHERE table_name = ?", [table]).fetchall()}
    con.execute(f"DROP TABLE IF EXISTS {table}")
    body = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS[table])
    con.execute(f"CREATE TABLE {table} ({body})")
    return [name for name in INDEXES if name in present]


def create_index(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create one of the `INDEXES`."""
    table, column = INDEXES[name]
    con.execute(f'CREATE INDEX {name} ON {table} ("{column}")')


def check_index(con: duckdb.DuckDBPyConnection) -> None:
    """Raise IndexUnusable unless `con` holds an index of the current schema version."""
    present = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    if "meta" not in present:
        raise IndexUnusable("it is not a Gantry index (no meta table)")
    check_version(con)
    missing = sorted(set(COLUMNS) - present)
    if missing:
        raise IndexUnusable(f"tables are missing: {', '.join(missing)}")


def check_version(con: duckdb.DuckDBPyConnection) -> None:
    """The cheap part of `check_index`, for a connection already open: the schema version."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as exc:
        raise IndexUnusable(f"it cannot be read ({first_line(exc)})") from exc
    if row is None:
        raise IndexUnusable("it has no schema_version")
    if row[0] != str(SCHEMA_VERSION):
        raise IndexUnusable(f"it has schema version {row[0]}, this Gantry writes "
                            f"version {SCHEMA_VERSION}")


def open_index(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open an existing index and check its version; raises IndexUnusable with the reason."""
    if not Path(path).is_file():
        raise IndexUnusable("it does not exist")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise IndexUnusable(f"it is not a readable DuckDB database ({first_line(exc)})") from exc
    try:
        check_index(con)
    except duckdb.Error as exc:
        con.close()
        raise IndexUnusable(f"it cannot be read ({first_line(exc)})") from exc
    except IndexUnusable:
        con.close()
        raise
    return con


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The `meta` table as a dict."""
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, for one-line notes."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
