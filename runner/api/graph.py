"""The relationship graph around one entity (`GET /api/v1/graph/{kind}/{name}`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..auth import require_role
from .common import requested_entity, workspace
from .errors import ApiError
from .names import checked_names
from .params import int_arg

bp = Blueprint("graph", __name__, url_prefix="/api/v1/graph")

MAX_DEPTH = 5
DIRECTIONS = ("both", "out", "in")


@bp.get("/<kind>/<name>")
@require_role("viewer")
@checked_names
def graph(kind: str, name: str) -> Response:
    """Nodes and typed edges within `depth` steps, following edges `out`, `in` or `both`."""
    from generator.index.graph import graph as walk

    depth = int_arg("depth", 1, 1, MAX_DEPTH)
    direction = request.args.get("direction") or "both"
    if direction not in DIRECTIONS:
        raise ApiError(400, f"direction must be one of {', '.join(DIRECTIONS)}, "
                            f"got {direction!r}")
    record = requested_entity(kind, name)
    with workspace().connect() as con:
        result = walk(con, record.ref, depth=depth, direction=direction)
    return jsonify(result)
