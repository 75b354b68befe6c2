"""The store's tables, and the steps that bring an older store file up to date.

`TABLES` names every table module explicitly: a missing one is an ImportError when the runner
starts, never a table silently absent. Each module's `SCHEMA` creates its tables as they are
now (`CREATE ... IF NOT EXISTS`), so a new store needs no migration. A store file written by
an older runner is then brought up to date by `MIGRATIONS`, in order: step N runs when the
file's `PRAGMA user_version` is below N and sets it to N, all in one transaction. A step must
also be harmless on a store whose tables already have its change (a new store).

A PostgreSQL store (`GANTRY_DATABASE_URL`) has its own steps in `runner.store.pg_schema`,
numbered like these ones, in a version table and under an advisory lock; `open_store` picks
the dialect from its argument: a path is a SQLite file, a `postgresql://` URL a database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from . import apikeys, audit, history, login_failures, runs, sessions, settings, users
from .db import Store, StoreError
from .pg import PgStore, is_database_url

TABLES: tuple[ModuleType, ...] = (users, sessions, apikeys, audit, history, runs, settings,
                                  login_failures)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _add_column(table: str, column: str, declaration: str) -> Callable[[sqlite3.Connection], None]:
    def step(conn: sqlite3.Connection) -> None:
        if column not in _columns(conn, table):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    step.__doc__ = f"{table}.{column} ({declaration})"
    return step


def _add_columns(table: str, *columns: tuple[str, str]) -> Callable[[sqlite3.Connection], None]:
    steps = [_add_column(table, column, declaration) for column, declaration in columns]

    def step(conn: sqlite3.Connection) -> None:
        for one in steps:
            one(conn)
    return step


def _create(conn: sqlite3.Connection, script: str) -> None:
    """A table module's `CREATE ... IF NOT EXISTS` statements inside the step's transaction
    (`executescript` would commit it)."""
    for statement in filter(str.strip, script.split(";")):
        conn.execute(statement)


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    # 1: the effective role of whoever requested a run (an API key may lower it)
    _add_column("action_runs", "triggered_by_role", "TEXT"),
    # 2: the replica holding an in-flight run and until when (see runner.store.runs)
    _add_columns("action_runs", ("owner", "TEXT"), ("lease_until", "REAL")),
    # 3: failed logins in the store, counted across workers and replicas
    lambda conn: _create(conn, login_failures.SCHEMA),
)

LATEST_VERSION = len(MIGRATIONS)
AnyStore = Store | PgStore


def schema_version(store: AnyStore) -> int:
    """The last migration the store has had (`PRAGMA user_version` in SQLite)."""
    if isinstance(store, PgStore):
        from . import pg_schema

        return pg_schema.version(store)
    return int(store.connection().execute("PRAGMA user_version").fetchone()[0])


def migrate(store: AnyStore) -> tuple[int, int]:
    """Create the missing tables and run the migrations the store has not had yet.

    Returns the schema version before and after."""
    if isinstance(store, PgStore):
        from . import pg_schema

        return pg_schema.upgrade(store)
    conn = store.connection()
    try:
        for module in TABLES:
            conn.executescript(module.SCHEMA)
        version = before = schema_version(store)
        if version > len(MIGRATIONS):
            raise StoreError(f"the store {store.path} was written by a newer Gantry (schema "
                             f"version {version}, this runner knows {len(MIGRATIONS)})")
        for number in range(version + 1, len(MIGRATIONS) + 1):
            with store.transaction() as locked:
                if schema_version(store) >= number:  # another process got there first
                    continue
                MIGRATIONS[number - 1](locked)
                locked.execute(f"PRAGMA user_version = {number}")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store {store.path}: {exc}") from exc
    return before, max(before, len(MIGRATIONS))


def connect(target: Path | str) -> AnyStore:
    """The store at `target` without touching its tables: a SQLite file, or a database URL."""
    return PgStore(target) if is_database_url(target) else Store(target)


def open_store(path: Path | str) -> AnyStore:
    """The runner's store at `path` (a SQLite file or a `postgresql://` URL), with every
    table present and up to date."""
    store = connect(path)
    try:
        migrate(store)
    except BaseException:
        store.close()
        raise
    return store
