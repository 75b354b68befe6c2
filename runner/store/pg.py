"""The PostgreSQL store: the same interface as the SQLite `Store`, over a connection pool.

Selected by `GANTRY_DATABASE_URL=postgresql://…` so that several runner replicas share users,
keys, sessions, runs, audit, history and settings. The table modules are written once, with
`?` placeholders and SQL both databases accept; this module translates the placeholders and
hands out rows that read both by position and by column name, as `sqlite3.Row` does.

Connections come from a `psycopg_pool.ConnectionPool`. Outside a transaction every statement
borrows a connection in autocommit mode and gives it back at once (a request thread never
holds one while it waits on something else); `transaction()` keeps one connection for the
block, so its statements commit or roll back together. Results are read before the
connection goes back, so a `fetchone()` after `execute()` needs no open cursor.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .db import StoreError

POOL_MIN = 1
POOL_MAX = 16
POOL_TIMEOUT_SECONDS = 10.0
URL_SCHEMES = ("postgresql://", "postgres://")

_PLACEHOLDER = re.compile(r"\?")


def is_database_url(target: object) -> bool:
    """True when `target` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, ""))


def translate(sql: str) -> str:
    """`?` placeholders to psycopg's `%s` (a literal `%` is doubled first)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


class Row(tuple):
    """A result row readable as `row[0]`, `row["name"]` and `dict(row)`."""

    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        return self._names


def _row_factory(cursor: psycopg.Cursor) -> Any:
    names = tuple(column.name for column in cursor.description or ())
    row_type = type("Row", (Row,), {"_names": names})
    return lambda values: row_type(values)


class Result:
    """What `execute` answers: the rows already read, and how many rows changed."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Row]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


def _run(conn: psycopg.Connection, sql: str, params: Sequence[Any]) -> Result:
    with conn.cursor(row_factory=_row_factory) as cursor:
        cursor.execute(translate(sql), tuple(params))
        rows = cursor.fetchall() if cursor.description is not None else []
        return Result(rows, cursor.rowcount)


class Connection:
    """The store's connection as the table modules use it (`execute(sql, params)`)."""

    def __init__(self, store: PgStore) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        held = self._store._held()
        if held is not None:
            return _run(held, sql, params)
        with self._store._borrow() as conn:
            return _run(conn, sql, params)


class PgStore:
    """The runner's PostgreSQL database (see the module docstring)."""

    dialect = "postgresql"
    shared = True
    """Several processes use this store at once: runs are leased, events go over NOTIFY."""

    def __init__(self, url: str, *, min_size: int = POOL_MIN, max_size: int = POOL_MAX,
                 timeout: float = POOL_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.path = shown_url(url)
        self._local = threading.local()
        try:
            self._pool = ConnectionPool(
                url, min_size=min_size, max_size=max_size, timeout=POOL_TIMEOUT_SECONDS,
                kwargs={"autocommit": True}, open=False, name="gantry-store",
            )
            self._pool.open(wait=True, timeout=timeout)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"cannot connect to the database {self.path}: {exc}") from exc
        self._connection = Connection(self)

    def _held(self) -> psycopg.Connection | None:
        return getattr(self._local, "conn", None)

    @contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreError(f"no database connection free in {POOL_TIMEOUT_SECONDS:.0f} s "
                             f"({self.path})") from exc

    def connection(self) -> Connection:
        """A connection-like object: statements outside `transaction()` autocommit."""
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Run a block as one transaction on one connection (nested blocks join it)."""
        if self._held() is not None:
            yield self._connection
            return
        with self._borrow() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield self._connection
            finally:
                self._local.conn = None

    @contextmanager
    def raw(self) -> Iterator[psycopg.Connection]:
        """A pooled psycopg connection of its own (advisory locks, LISTEN, NOTIFY)."""
        with self._borrow() as conn:
            yield conn

    def check(self) -> None:
        """Raise `StoreError` when the database cannot be read (for readiness probes)."""
        try:
            self._connection.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"store {self.path} cannot be read: {exc}") from exc

    def close(self) -> None:
        """Close the pool and every connection in it."""
        self._pool.close()
