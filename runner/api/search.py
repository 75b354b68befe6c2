"""Ranked search over the catalog (`GET /api/v1/search?q=&kind=&limit=`), from the index."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..auth import require_role
from .common import canonical_kind, workspace
from .errors import ApiError
from .params import page_arg

bp = Blueprint("search", __name__, url_prefix="/api/v1/search")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200


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
    limit = page_arg("limit", DEFAULT_LIMIT, MAX_LIMIT)
    with workspace().connect() as con:
        results = search_index(con, query, kind=kind, limit=limit)
    return jsonify(results)
