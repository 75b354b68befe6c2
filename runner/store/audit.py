"""The audit log: who did what to which resource, from where, and what it changed."""

from __future__ import annotations

import json
import uuid
from typing import Any

from .db import Store, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    timestamp TEXT NOT NULL,
    user_name TEXT,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_name TEXT,
    source TEXT NOT NULL,
    ip_address TEXT,
    before_json TEXT,
    after_json TEXT,
    commit_id TEXT,
    details_json TEXT
);
"""


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def record(store: Store, *, user: Any, action: str, resource_type: str,
           resource_name: str | None, source: str = "api", ip: str | None = None,
           before: Any = None, after: Any = None, commit: str | None = None,
           details: Any = None) -> str:
    """Append one entry and return its id.

    `user` is a user name, or any object with a `username` attribute (None for anonymous).
    Callers redact secrets in `before`, `after` and `details` with `runner.redact.redact()`.
    """
    user_name = getattr(user, "username", user)
    entry_id = str(uuid.uuid4())
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO audit (id, timestamp, user_name, action, resource_type, resource_name,"
            " source, ip_address, before_json, after_json, commit_id, details_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_id, now_iso(), user_name, action, resource_type, resource_name, source, ip,
             _dump(before), _dump(after), commit, _dump(details)),
        )
    return entry_id


def entries(store: Store, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Entries newest first, in the API's shape."""
    rows = store.connection().execute(
        "SELECT * FROM audit ORDER BY seq DESC LIMIT ? OFFSET ?", (limit, offset)).fetchall()
    return [_shape(row) for row in rows]


FILTER_COLUMNS = {"user": "user_name", "action": "action", "resource_type": "resource_type",
                  "resource_name": "resource_name"}
"""Filters of `matching` compared for equality (case-insensitively), and their columns."""


def matching(store: Store, *, limit: int = 50, offset: int = 0, since: str | None = None,
             until: str | None = None, **equal: str | None) -> list[dict[str, Any]]:
    """Entries newest first whose `FILTER_COLUMNS` equal the given values and whose time
    stamp is in [since, until) (ISO 8601 UTC text, compared as stored)."""
    clauses: list[str] = []
    values: list[Any] = []
    for name, value in equal.items():
        if value:
            clauses.append(f"{FILTER_COLUMNS[name]} = ? COLLATE NOCASE")
            values.append(value)
    if since:
        clauses.append("timestamp >= ?")
        values.append(since)
    if until:
        clauses.append("timestamp < ?")
        values.append(until)
    where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
    rows = store.connection().execute(
        f"SELECT * FROM audit {where}ORDER BY seq DESC LIMIT ? OFFSET ?",
        (*values, limit, offset)).fetchall()
    return [_shape(row) for row in rows]


def _shape(row: Any) -> dict[str, Any]:
    """One row in the API's shape."""
    return {
        "id": row["id"],
        "timestamp": row["timestamp"],
        "userName": row["user_name"],
        "action": row["action"],
        "resourceType": row["resource_type"],
        "resourceName": row["resource_name"],
        "source": row["source"],
        "ipAddress": row["ip_address"],
        "before": _load(row["before_json"]),
        "after": _load(row["after_json"]),
        "commit": row["commit_id"],
        "details": _load(row["details_json"]),
    }


def count(store: Store) -> int:
    return int(store.connection().execute("SELECT count(*) FROM audit").fetchone()[0])
