"""The entity files of the catalog, read from the runner's index (SQL only)."""

from __future__ import annotations

from typing import Any


def entity_files(workspace: Any) -> list[dict[str, str]]:
    """One row per entity: its file (relative to the catalog), kind, namespace and name."""
    with workspace.connect() as con:
        rows = con.execute(
            "SELECT path, kind, namespace, name FROM entities ORDER BY path, line").fetchall()
    return [{"path": path, "kind": kind, "namespace": namespace, "name": name}
            for path, kind, namespace, name in rows]
