"""The audit log, newest first (`GET /api/v1/audit?limit&offset`, admin only)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..auth import require_role
from ..store import audit
from .common import current_state
from .params import offset_arg, page_arg

bp = Blueprint("audit", __name__, url_prefix="/api/v1")

MAX_LIMIT = 500


@bp.get("/audit")
@require_role("admin")
def list_audit() -> Response:
    limit = page_arg("limit", 50, MAX_LIMIT)
    offset = offset_arg()
    return jsonify(audit.entries(current_state().store, limit=limit, offset=offset))
