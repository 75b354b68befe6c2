"""Users of the runner: name, role, e-mail and a password hash (never the password)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .db import INTEGRITY_ERRORS, Store, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


DISABLED_PREFIX = "disabled$"
"""Put before a disabled account's password hash: no password matches it any more, and
enabling the account again restores the hash as it was."""


class UserExists(ValueError):
    """A user with that name already exists."""


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    role: str
    email: str | None
    password_hash: str
    created_at: str

    def public(self) -> dict:
        """The user as the API shows it (no hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "email": self.email,
            "createdAt": self.created_at,
            "disabled": self.password_hash.startswith(DISABLED_PREFIX),
        }


def _record(row: Any) -> UserRecord | None:
    return UserRecord(**dict(row)) if row is not None else None


def create(store: Store, *, username: str, role: str, password_hash: str,
           email: str | None = None) -> UserRecord:
    """Insert a user; raises `UserExists` when the name is taken (case-insensitively)."""
    record = UserRecord(str(uuid.uuid4()), username, role, email, password_hash, now_iso())
    try:
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, username, role, email, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (record.id, record.username, record.role, record.email,
                 record.password_hash, record.created_at),
            )
    except INTEGRITY_ERRORS as exc:
        raise UserExists(f"user {username!r} already exists") from exc
    return record


def by_name(store: Store, username: str) -> UserRecord | None:
    row = store.connection().execute(
        "SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return _record(row)


def by_id(store: Store, user_id: str) -> UserRecord | None:
    row = store.connection().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _record(row)


def list_all(store: Store) -> list[UserRecord]:
    rows = store.connection().execute("SELECT * FROM users ORDER BY username").fetchall()
    return [UserRecord(**dict(row)) for row in rows]


def count_with_role(store: Store, role: str) -> int:
    row = store.connection().execute(
        "SELECT count(*) FROM users WHERE role = ?", (role,)).fetchone()
    return int(row[0])



def is_disabled(record: UserRecord) -> bool:
    return record.password_hash.startswith(DISABLED_PREFIX)


def set_role(store: Store, user_id: str, role: str) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))


def set_disabled(store: Store, user_id: str, disabled: bool) -> None:
    """Disable (no password matches) or enable an account, keeping its password hash."""
    with store.transaction() as conn:
        if disabled:
            conn.execute("UPDATE users SET password_hash = ? || password_hash WHERE id = ?"
                         " AND password_hash NOT LIKE ?",
                         (DISABLED_PREFIX, user_id, DISABLED_PREFIX + "%"))
        else:
            conn.execute("UPDATE users SET password_hash = substr(password_hash, ?)"
                         " WHERE id = ? AND password_hash LIKE ?",
                         (len(DISABLED_PREFIX) + 1, user_id, DISABLED_PREFIX + "%"))


def delete(store: Store, user_id: str) -> bool:
    """Remove a user (their sessions and keys go with them: foreign keys cascade)."""
    with store.transaction() as conn:
        cur = conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
    return cur.rowcount > 0
