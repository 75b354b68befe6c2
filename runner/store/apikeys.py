"""API keys: `gantry_…` secrets stored only as their SHA-256, with a role and an owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .db import BUSY_ERRORS, Store, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS apikeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX IF NOT EXISTS apikeys_user ON apikeys(user_id);
"""


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    user_id: str
    name: str
    role: str
    key_hash: str
    prefix: str
    created_at: str
    last_used_at: str | None

    def public(self, username: str | None = None) -> dict:
        """The key as the API lists it (never the key or its hash)."""
        body = {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "createdAt": self.created_at,
            "lastUsedAt": self.last_used_at,
        }
        if username is not None:
            body["user"] = username
        return body


def create(store: Store, *, user_id: str, name: str, role: str, key_hash: str,
           prefix: str) -> ApiKeyRecord:
    record = ApiKeyRecord(str(uuid.uuid4()), user_id, name, role, key_hash, prefix, now_iso(),
                          None)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO apikeys (id, user_id, name, role, key_hash, prefix, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.id, user_id, name, role, key_hash, prefix, record.created_at),
        )
    return record


def by_hash(store: Store, key_hash: str) -> ApiKeyRecord | None:
    row = store.connection().execute(
        "SELECT * FROM apikeys WHERE key_hash = ?", (key_hash,)).fetchone()
    return ApiKeyRecord(**dict(row)) if row else None


def by_id(store: Store, key_id: str) -> ApiKeyRecord | None:
    row = store.connection().execute("SELECT * FROM apikeys WHERE id = ?", (key_id,)).fetchone()
    return ApiKeyRecord(**dict(row)) if row else None


def list_for(store: Store, user_id: str | None = None) -> list[ApiKeyRecord]:
    """Keys of one user, or every key when `user_id` is None."""
    conn = store.connection()
    if user_id is None:
        rows = conn.execute("SELECT * FROM apikeys ORDER BY created_at").fetchall()
    else:
        rows = conn.execute(
            "SELECT * FROM apikeys WHERE user_id = ? ORDER BY created_at", (user_id,)).fetchall()
    return [ApiKeyRecord(**dict(row)) for row in rows]


def holder(store: Store, key_id: str) -> dict[str, str] | None:
    """`user_id`, `username`, the key's `role` and its owner's `owner_role`, in one read.

    None when the key was revoked or its owner no longer exists.
    """
    row = store.connection().execute(
        "SELECT u.id AS user_id, u.username, k.role, u.role AS owner_role FROM apikeys k"
        " JOIN users u ON u.id = k.user_id WHERE k.id = ?", (key_id,)).fetchone()
    return dict(row) if row else None


def delete(store: Store, key_id: str) -> bool:
    with store.transaction() as conn:
        cur = conn.execute("DELETE FROM apikeys WHERE id = ?", (key_id,))
    return cur.rowcount > 0


def touch(store: Store, key_id: str) -> None:
    """Remember when a key was last used (best effort; a busy store is not an error)."""
    try:
        store.connection().execute(
            "UPDATE apikeys SET last_used_at = ? WHERE id = ?", (now_iso(), key_id))
    except BUSY_ERRORS:
        pass
