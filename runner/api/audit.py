"""The audit log, newest first (`GET /api/v1/audit?limit&offset`, admin only)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..app import current_state
from ..auth import require_role
from ..store import audit
from .params import int_arg

bp = Blueprint("audit", __name__, url_prefix="/api/v1")

MAX_LIMIT = 500


@bp.get("/audit")
@require_role("admin")
def list_audit() -> Response:
    limit = int_arg("limit", 50, 1, MAX_LIMIT)
    offset = int_arg("offset", 0, 0, 10**9)
    return jsonify(audit.entries(current_state().store, limit=limit, offset=offset))
