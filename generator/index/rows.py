"""How entities become rows of `entities`: Python stages a few fields, DuckDB derives the rest.

Python hands over only what it alone knows (ref, path, lines, the document as JSON and the
file's Git history); the columns users query (title, owner, tags, labels, ...) and the
normalised word lists search matches against are computed by one SQL projection, in
DuckDB's own threads. The same projection serves the full build and incremental updates.

Search text is normalised as: lower case, every run of letters and digits a word, words
joined by single spaces with a space at each end. A query word `w` is then a whole word
where ` w ` occurs and a word prefix where ` w` occurs.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ..structure.entity import Entity
from .gitmeta import FileHistory

_WORD = re.compile(r"[^\W_]+")
_SQL_WORDS = r"regexp_extract_all(lower({0}), '[\pL\pN]+')"


def words(text: str) -> list[str]:
    """The lower-case words of `text`, split as the index splits them."""
    return _WORD.findall(text.lower())


STAGED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ref", "VARCHAR"), ("path", "VARCHAR"), ("line", "INTEGER"), ("end_line", "INTEGER"),
    ("data", "JSON"), ("created_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP"),
    ("created_by", "VARCHAR"), ("last_commit", "VARCHAR"),
)
"""What Python supplies per entity; see `ENTITY_SELECT` for the rest."""


_ENVELOPE = '{"kind": "VARCHAR", "metadata": "JSON", "spec": "JSON"}'
_METADATA = ('{"name": "VARCHAR", "namespace": "VARCHAR", "title": "VARCHAR", '
             '"description": "VARCHAR", "owner": "VARCHAR", "tags": ["VARCHAR"], '
             '"labels": "JSON", "annotations": "JSON"}')
_SPEC = '{"lifecycle": "VARCHAR", "type": "VARCHAR", "owner": "VARCHAR"}'
"""Backstage writes the owner in `spec.owner`; Gantry in `metadata.owner`."""


def _object(expression: str) -> str:
    return (f"CASE WHEN json_type({expression}) = 'OBJECT' THEN {expression} "
            "ELSE '{}'::JSON END")


def _word_text(expression: str) -> str:
    return f"' ' || array_to_string({_SQL_WORDS.format(expression)}, ' ') || ' '"


ENTITY_SELECT = f"""
    SELECT ref, e.kind, coalesce(nullif(m.namespace, ''), 'default') AS namespace, m.name,
           m.title, m.description, coalesce(m.owner, s.owner) AS owner, s.lifecycle, s.type,
           coalesce(m.tags, []::VARCHAR[]) AS tags,
           {_object('m.labels')} AS labels, {_object('m.annotations')} AS annotations,
           {_object('e.spec')} AS spec, {_object('e.metadata')} AS metadata,
           data, path, line, end_line, created_at, updated_at, created_by, last_commit
    FROM (SELECT *, json_transform(data, '{_ENVELOPE}') AS e FROM staged) AS a,
         LATERAL (SELECT json_transform(a.e.metadata, '{_METADATA}') AS m,
                         json_transform(a.e.spec, '{_SPEC}') AS s) AS b
"""
"""Every `entities` column but the word lists, from the `staged` relation. Each document is
parsed once (`json_transform`), not once per column."""

ENTITY_INSERT = f"""
    INSERT INTO entities
    SELECT *, ' ' || array_to_string(list_distinct(string_split(trim(
               name_words || title_words || description_words), ' ')), ' ') || ' '
               AS search_text
    FROM (SELECT *,
                 {_word_text('name')} AS name_words,
                 {_word_text("concat_ws(' ', title, array_to_string(tags, ' '), owner)")}
                     AS title_words,
                 {_word_text("coalesce(description, '')")} AS description_words
          FROM ({ENTITY_SELECT}))
"""
"""Insert the `staged` entities; `bulk_insert` provides `staged` (a view or VALUES)."""


def bulk_insert(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]],
                rows: Iterable[Sequence[Any]], folder: Path, *, select: str | None = None,
                chunk: int = 2000) -> int:
    """Insert `rows` (tuples in column order) through a temporary columnar JSON file.

    One `json.dumps` per chunk of rows instead of one per row, and one `read_json` scan:
    an order of magnitude faster than parameterised inserts. With `select`, the rows are
    exposed as the temporary view `staged` and `select` (an INSERT ... FROM staged) runs.
    """
    names = [name for name, _ in columns]
    if isinstance(rows, list) and len(rows) <= SMALL:
        return _insert_small(con, table, columns, rows, select)
    handle, file_name = tempfile.mkstemp(prefix=f".{table}.", suffix=".json", dir=folder)
    count = longest = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    longest = max(longest, _write_chunk(out, names, batch))
                    count += len(batch)
                    batch = []
            if batch:
                longest = max(longest, _write_chunk(out, names, batch))
                count += len(batch)
        if count:
            types = "{" + ", ".join(f"'{n}': '{t}[]'" for n, t in columns) + "}"
            unnest = ", ".join(f'unnest("{n}") AS "{n}"' for n in names)
            literal = file_name.replace("'", "''")
            source = (f"SELECT {unnest} FROM read_json('{literal}', format = "
                      f"'newline_delimited', columns = {types}, "
                      f"maximum_object_size = {4 * longest + 1024})")
            if select is None:
                con.execute(f"INSERT INTO {table} {source}")
            else:
                con.execute(f"CREATE OR REPLACE TEMP VIEW staged AS {source}")
                try:
                    con.execute(select)
                finally:
                    con.execute("DROP VIEW IF EXISTS staged")
    finally:
        os.unlink(file_name)
    return count


SMALL = 100
"""Up to this many rows go in as parameters: a temporary file costs more for a few rows."""


def _insert_small(con: duckdb.DuckDBPyConnection, table: str,
                  columns: Sequence[tuple[str, str]], rows: list[Sequence[Any]],
                  select: str | None) -> int:
    """One INSERT with the rows as parameters; `select` reads them as `staged`."""
    if not rows:
        return 0
    # json() re-serialises as read_json does, so both paths store identical text
    marks = "(" + ", ".join("json(?)" if kind == "JSON" else f"?::{kind}"
                            for _, kind in columns) + ")"
    encode = [kind == "JSON" for _, kind in columns]
    params = [json.dumps(value, ensure_ascii=False) if as_json else value
              for row in rows for value, as_json in zip(row, encode, strict=True)]
    values = "VALUES " + ", ".join([marks] * len(rows))
    if select is None:
        con.execute(f"INSERT INTO {table} {values}", params)
    else:
        names = ", ".join(f'"{name}"' for name, _ in columns)
        con.execute(select.replace("FROM staged", f"FROM ({values}) AS staged({names})"),
                    params)
    return len(rows)


def _write_chunk(out: Any, names: list[str], batch: list[Sequence[Any]]) -> int:
    """Write one line holding `batch` column by column; returns its length in bytes (max)."""
    columnar = {name: [row[i] for row in batch] for i, name in enumerate(names)}
    line = json.dumps(columnar, ensure_ascii=False, separators=(",", ":"), default=str)
    out.write(line)
    out.write("\n")
    return len(line.encode("utf-8")) if not line.isascii() else len(line)


def staged_row(entity: Entity, history: FileHistory | None) -> tuple:
    """The `STAGED_COLUMNS` of one entity; `history` is its file's Git history."""
    if history is None:
        return (entity.ref, entity.path, entity.line, entity.end_line, entity.data,
                None, None, None, None)
    return (entity.ref, entity.path, entity.line, entity.end_line, entity.data,
            history.created_at, history.updated_at, history.created_by, history.last_commit)
