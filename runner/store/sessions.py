"""Login sessions: random tokens stored only as their SHA-256, revocable server-side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .db import Store, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
"""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create(store: Store, *, token_hash: str, user_id: str, lifetime: timedelta) -> str:
    """Store a session; returns its expiry time."""
    expires = _iso(datetime.now(UTC) + lifetime)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (token_hash, user_id, now_iso(), expires),
        )
    return expires


def user_id_for(store: Store, token_hash: str) -> str | None:
    """The user of a live session, or None when unknown or expired."""
    row = store.connection().execute(
        "SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?",
        (token_hash, now_iso()),
    ).fetchone()
    return row[0] if row else None


def holder(store: Store, token_hash: str) -> dict[str, str] | None:
    """`user_id`, `username`, `role` and `expires_at` of a live session, in one read.

    None when the session is unknown, expired or its user no longer exists: what an open
    WebSocket checks to learn that its credential has ended.
    """
    row = store.connection().execute(
        "SELECT u.id AS user_id, u.username, u.role, s.expires_at FROM sessions s"
        " JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
        (token_hash, now_iso()),
    ).fetchone()
    return dict(row) if row else None


def revoke(store: Store, token_hash: str) -> bool:
    with store.transaction() as conn:
        cur = conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
    return cur.rowcount > 0


def purge_expired(store: Store) -> int:
    with store.transaction() as conn:
        cur = conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now_iso(),))
    return cur.rowcount


def hashes_of(store: Store, user_id: str) -> list[str]:
    """The token hashes of every session of one user (live or not)."""
    rows = store.connection().execute(
        "SELECT token_hash FROM sessions WHERE user_id = ?", (user_id,)).fetchall()
    return [row[0] for row in rows]
