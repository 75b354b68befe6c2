"""One entity as the runner's index holds it, and its version tag (ETag)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from generator.structure.entity import DEFAULT_NAMESPACE

ENTITY_COLUMNS = "ref, kind, data, path, line, created_at, updated_at, created_by"
"""The columns of `entities` that `record_of` reads, in its order."""


def etag_of(data: dict[str, Any]) -> str:
    """The version tag of an entity document: a hash of its content as plain JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """One entity as the index holds it, with where it is written."""

    ref: str
    kind: str
    data: dict[str, Any]
    path: str
    line: int
    created_at: str | None
    updated_at: str | None
    created_by: str | None

    @property
    def etag(self) -> str:
        return etag_of(self.data)

    def as_json(self) -> dict[str, Any]:
        """The entity as the API shows it: the document plus Git-derived metadata."""
        body = json.loads(json.dumps(self.data))
        metadata = body.get("metadata")
        if not isinstance(metadata, dict):
            metadata = body["metadata"] = {}
        metadata.setdefault("namespace", DEFAULT_NAMESPACE)
        metadata["createdAt"] = self.created_at
        metadata["updatedAt"] = self.updated_at
        metadata["createdBy"] = self.created_by
        return body


def record_of(row: tuple) -> EntityRecord:
    """The record of one `SELECT {ENTITY_COLUMNS} FROM entities` row."""
    ref, kind, data, path, line, created_at, updated_at, created_by = row
    return EntityRecord(ref, kind, json.loads(data) if isinstance(data, str) else data, path,
                        line, _iso(created_at), _iso(updated_at), created_by)


def differs(old: EntityRecord | None, new: EntityRecord | None) -> bool:
    """Whether an entity was created, deleted or changed between two reads."""
    if old is None or new is None:
        return old is not new
    return old.data != new.data
