"""Ranked search over the catalog (`GET /api/v1/search?q=&kind=&limit=`), from the index."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..auth import require_role
from .entities import canonical_kind, workspace
from .errors import ApiError

bp = Blueprint("search", __name__, url_prefix="/api/v1/search")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; 400 otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}")
    return value


@bp.get("")
@require_role("viewer")
def search() -> Response:
    """Entities matching `q`: exact name first, then name prefix, then words elsewhere."""
    from generator.index.search import search as search_index

    query = (request.args.get("q") or "").strip()
    if not query:
        raise ApiError(400, "q is required: what to search for")
    if len(query) > MAX_QUERY_LENGTH:
        raise ApiError(400, f"q is longer than {MAX_QUERY_LENGTH} characters")
    kind = request.args.get("kind") or None
    if kind is not None:
        kind = canonical_kind(kind)
    limit = int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    with workspace().connect() as con:
        results = search_index(con, query, kind=kind, limit=limit)
    return jsonify(results)
