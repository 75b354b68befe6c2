"""What discovery needs to know of the catalog, read from the runner's index (SQL only).

In the runner the DuckDB index is always current (every write and pull refreshes it), so a
discovery pass does not re-read a catalog of 100,000 entities from disk.
"""

from __future__ import annotations

import json
from typing import Any

from generator.structure.entity import DEFAULT_NAMESPACE

from .discovery import ExistingEntity
from .writer import CatalogView


def catalog_view(workspace: Any) -> CatalogView:
    """Environment names and Services by name (the `default` namespace wins a tie)."""
    with workspace.connect() as con:
        rows = con.execute(
            "SELECT lower(kind), namespace, name, path, data FROM entities"
            " WHERE lower(kind) IN ('service', 'environment')"
            " ORDER BY namespace <> ?, path, line", [DEFAULT_NAMESPACE]).fetchall()
    environments: set[str] = set()
    services: dict[str, ExistingEntity] = {}
    for kind, _namespace, name, path, data in rows:
        if kind == "environment":
            environments.add(name)
        elif name not in services:
            document = json.loads(data) if isinstance(data, str) else data
            services[name] = ExistingEntity(path, 0, document)
    return CatalogView(environments, services)
