"""Failed logins by user name and address, in the store, so every worker and replica counts
the same failures (the limit is per runner, not per process)."""

from __future__ import annotations

from .db import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS login_failures (
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    failed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(username, address, failed_at);
"""


def record(store: Store, username: str, address: str, at: float, *, forget_before: float
           ) -> None:
    """Count one failure at `at` (seconds since the epoch); failures older than
    `forget_before` are dropped on the way, so the table holds one window at most."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM login_failures WHERE failed_at <= ?", (forget_before,))
        conn.execute("INSERT INTO login_failures (username, address, failed_at) "
                     "VALUES (?, ?, ?)", (username, address, at))


def since(store: Store, username: str, address: str, after: float) -> list[float]:
    """The times of the failures for this name and address after `after`, oldest first."""
    rows = store.connection().execute(
        "SELECT failed_at FROM login_failures WHERE username = ? AND address = ? "
        "AND failed_at > ? ORDER BY failed_at", (username, address, after)).fetchall()
    return [float(row[0]) for row in rows]


def clear(store: Store, username: str, address: str) -> None:
    """Forget this name and address's failures (a successful login)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM login_failures WHERE username = ? AND address = ?",
                     (username, address))
