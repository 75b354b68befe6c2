"""Plugin settings and plugin state in SQLite: rows only, no knowledge of secrets or schemas.

`plugin_settings` holds each plugin's enabled flag and its config JSON (secret fields
already encrypted by `runner.plugins.settings`). `plugin_state` is a small key/value space for
what plugins remember between restarts (GitOps timestamps, last discovery). `gitops_history`
lists push and pull operations.
"""

from __future__ import annotations

import json
from typing import Any

from .db import Store, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS plugin_settings (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL DEFAULT 0,
    config_json TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT,
    updated_by TEXT
);
CREATE TABLE IF NOT EXISTS plugin_state (
    plugin TEXT NOT NULL,
    key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    PRIMARY KEY (plugin, key)
);
CREATE TABLE IF NOT EXISTS gitops_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    triggered_by TEXT,
    commit_before TEXT,
    commit_after TEXT,
    files_json TEXT NOT NULL DEFAULT '[]',
    message TEXT NOT NULL DEFAULT ''
);
"""

HISTORY_LIMIT = 100


def get(store: Store, name: str) -> dict[str, Any] | None:
    """`{enabled, config, updatedAt, updatedBy}` of a plugin, or None when never saved."""
    row = store.connection().execute(
        "SELECT enabled, config_json, updated_at, updated_by FROM plugin_settings WHERE name = ?",
        (name,)).fetchone()
    if row is None:
        return None
    return {"enabled": bool(row["enabled"]), "config": json.loads(row["config_json"]),
            "updatedAt": row["updated_at"], "updatedBy": row["updated_by"]}


def put_config(store: Store, name: str, config: dict[str, Any], user: str | None) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO plugin_settings (name, config_json, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
            " config_json = excluded.config_json,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (name, json.dumps(config), now_iso(), user))


def put_enabled(store: Store, name: str, enabled: bool, user: str | None) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO plugin_settings (name, enabled, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET enabled = excluded.enabled,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (name, int(enabled), now_iso(), user))


def get_state(store: Store, plugin: str) -> dict[str, Any]:
    rows = store.connection().execute(
        "SELECT key, value_json FROM plugin_state WHERE plugin = ?", (plugin,)).fetchall()
    return {row["key"]: json.loads(row["value_json"]) for row in rows}


def set_state(store: Store, plugin: str, **values: Any) -> None:
    with store.transaction() as conn:
        for key, value in values.items():
            conn.execute(
                "INSERT INTO plugin_state (plugin, key, value_json) VALUES (?, ?, ?)"
                " ON CONFLICT(plugin, key) DO UPDATE SET value_json = excluded.value_json",
                (plugin, key, json.dumps(value)))


def add_gitops_history(store: Store, *, operation: str, status: str, triggered_by: str | None,
                       commit_before: str | None, commit_after: str | None,
                       files: list[str], message: str) -> None:
    """Record one push or pull; only the newest HISTORY_LIMIT entries are kept."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO gitops_history (timestamp, operation, status, triggered_by,"
            " commit_before, commit_after, files_json, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now_iso(), operation, status, triggered_by, commit_before, commit_after,
             json.dumps(files), message))
        conn.execute(
            "DELETE FROM gitops_history WHERE seq NOT IN"
            " (SELECT seq FROM gitops_history ORDER BY seq DESC LIMIT ?)", (HISTORY_LIMIT,))


def gitops_history(store: Store, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """Push and pull operations, newest first."""
    rows = store.connection().execute(
        "SELECT * FROM gitops_history ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
    return [{"id": row["seq"], "timestamp": row["timestamp"], "operation": row["operation"],
             "status": row["status"], "triggeredBy": row["triggered_by"],
             "commitBefore": row["commit_before"], "commitAfter": row["commit_after"],
             "files": json.loads(row["files_json"]), "message": row["message"]}
            for row in rows]
