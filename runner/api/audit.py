"""The audit log, newest first (`GET /api/v1/audit?limit&offset`, admin only)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..app import current_state
from ..auth import require_role
from ..store import audit
from .errors import ApiError

bp = Blueprint("audit", __name__, url_prefix="/api/v1")

MAX_LIMIT = 500


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """A bounded integer query parameter (400 with the parameter's name when invalid)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ApiError(400, f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


@bp.get("/audit")
@require_role("admin")
def list_audit() -> Response:
    limit = int_arg("limit", 50, 1, MAX_LIMIT)
    offset = int_arg("offset", 0, 0, 10**9)
    return jsonify(audit.entries(current_state().store, limit=limit, offset=offset))
