"""The JSON Schema of every kind (`GET /api/v1/schemas`, `GET /api/v1/schemas/{kind}`).

Each schema is answered self-contained (see `generator.structure.bundle`): the envelope and
any other referenced file are bundled under `$defs` and every `$ref` is local, so a client
validates with the answer alone, the same file the static site publishes under `schemas/`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..auth import require_role
from .common import canonical_kind, workspace

bp = Blueprint("schemas", __name__, url_prefix="/api/v1/schemas")


@bp.get("")
@require_role("viewer")
def list_schemas() -> Response:
    """Every kind's self-contained schema, keyed by the kind as its schema spells it."""
    registry = workspace().registry
    return jsonify({kind: registry.bundled(kind) for kind in registry.kinds()})


@bp.get("/<kind>")
@require_role("viewer")
def get_schema(kind: str) -> Response:
    """One kind's self-contained schema (kind case-insensitive); 404 for an unknown kind."""
    return jsonify(workspace().registry.bundled(canonical_kind(kind)))
