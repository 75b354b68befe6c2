"""Each user's recently viewed entities: at most `MAX_ENTRIES`, newest first, no duplicates."""

from __future__ import annotations

from typing import Any

from .db import Store, now_iso

MAX_ENTRIES = 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    viewed_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, namespace, name)
);
CREATE INDEX IF NOT EXISTS history_recent ON history(user_id, seq DESC);
"""


def record(store: Store, user_id: str, *, kind: str, namespace: str, name: str) -> None:
    """Move the entity to the top of the user's history and trim it to `MAX_ENTRIES`."""
    with store.transaction() as conn:
        top = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM history WHERE user_id = ?", (user_id,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO history (user_id, kind, namespace, name, viewed_at, seq)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, kind, namespace, name)"
            " DO UPDATE SET viewed_at = excluded.viewed_at, seq = excluded.seq",
            (user_id, kind, namespace, name, now_iso(), top + 1),
        )
        conn.execute(
            "DELETE FROM history WHERE user_id = ? AND seq NOT IN"
            " (SELECT seq FROM history WHERE user_id = ? ORDER BY seq DESC LIMIT ?)",
            (user_id, user_id, MAX_ENTRIES),
        )


def recent(store: Store, user_id: str, limit: int = MAX_ENTRIES) -> list[dict[str, Any]]:
    rows = store.connection().execute(
        "SELECT kind, namespace, name, viewed_at FROM history WHERE user_id = ?"
        " ORDER BY seq DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    return [
        {"kind": r["kind"], "namespace": r["namespace"], "name": r["name"],
         "viewedAt": r["viewed_at"]}
        for r in rows
    ]
