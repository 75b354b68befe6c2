"""A rule's own SQL: one read-only SELECT, checked before it runs and stopped when slow.

Read-only by construction: the text must parse as exactly one statement of type SELECT,
and it runs as a subquery (`SELECT ref, passed, reason FROM (<query>)`), where no second
statement can follow; a DuckDB SELECT cannot change a table. Each rule's query runs under
a time limit (`with_time_limit`), after which DuckDB is interrupted and the rule fails
with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

import duckdb

from ..index.schema import create_tables, first_line

TIME_LIMIT_SECONDS = 10.0
"""How long one rule's SQL may run during a build before it is stopped."""
COLUMNS = ("ref", "passed", "reason")
_T = TypeVar("_T")


_SCHEMA_LOCK = threading.Lock()
_schema_con: duckdb.DuckDBPyConnection | None = None


def _parser() -> duckdb.DuckDBPyConnection:
    """One in-memory database holding an empty copy of the index's tables (lock held)."""
    global _schema_con
    if _schema_con is None:
        _schema_con = duckdb.connect(":memory:")
        create_tables(_schema_con)
    return _schema_con


class RuleSQLError(ValueError):
    """The rule's SQL is not one read-only SELECT returning ref, passed, reason."""


@lru_cache(maxsize=512)
def guarded_select(query: str) -> str:
    """The rule's query as a subquery of exactly the three columns; RuleSQLError if unfit.
    (Kept per query text: a re-score after each write checks the same rules again.)"""
    text = query.strip().rstrip(";").strip()
    try:
        with _SCHEMA_LOCK:
            statements = _parser().extract_statements(text)
    except duckdb.Error as exc:
        raise RuleSQLError(f"the SQL does not parse: {first_line(exc)}") from None
    if len(statements) != 1:
        raise RuleSQLError(f"the SQL must be one SELECT statement, not {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise RuleSQLError(f"the SQL must be a SELECT (read-only), not "
                           f"{statements[0].type.name}")
    return f"SELECT ref, passed, reason FROM ({text}) AS rule_query"




def sql_problem(query: str) -> str | None:
    """Why the rule's SQL cannot serve (bad syntax, not a SELECT, an unknown table or
    column, missing or wrongly typed columns), else None. Checked against an empty copy of
    the index's tables, so it needs no built index."""
    try:
        guarded_select(query)
    except RuleSQLError as exc:
        return str(exc)
    with _SCHEMA_LOCK:
        try:
            described = _parser().execute(
                f"DESCRIBE SELECT * FROM ({query.strip().rstrip(';')}) AS q").fetchall()
        except duckdb.Error as exc:
            return f"the SQL cannot run on the index: {first_line(exc)}"
    types = {row[0].lower(): row[1] for row in described}
    missing = [name for name in COLUMNS if name not in types]
    if missing:
        return (f"the SQL must return the columns ref, passed, reason; it returns "
                f"{', '.join(types) or 'none'} (missing {', '.join(missing)})")
    if types["passed"] != "BOOLEAN":
        return f"the column passed must be BOOLEAN, not {types['passed']}"
    return None


@contextmanager
def with_time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt what `con` runs once `seconds` have passed (DuckDB raises
    InterruptException in the caller)."""
    timer = threading.Timer(seconds, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def run_limited(con: duckdb.DuckDBPyConnection, action: Callable[[], _T],
                seconds: float = TIME_LIMIT_SECONDS) -> _T:
    """`action()` under the time limit."""
    with with_time_limit(con, seconds):
        return action()


def pattern_problem(pattern: str) -> str | None:
    """Why DuckDB's regular expressions (RE2) refuse `pattern`, else None."""
    with _SCHEMA_LOCK:
        try:
            _parser().execute("SELECT regexp_matches('', ?)", [pattern])
        except duckdb.Error as exc:
            return f"not a regular expression DuckDB (RE2) accepts: {first_line(exc)}"
    return None
