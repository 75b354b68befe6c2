"""The audit log, newest first (`GET /api/v1/audit`, admin only).

Paging with `limit` and `offset`; filters `user`, `action`, `resourceType`, `resource`
(equal, case-insensitively) and `since`/`until` (ISO 8601 date-times; `until` excluded).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from ..auth import require_role
from ..store import audit
from .common import current_state
from .errors import ApiError
from .params import offset_arg, page_arg

bp = Blueprint("audit", __name__, url_prefix="/api/v1")

MAX_LIMIT = 500
MAX_FILTER = 300


def _moment(name: str) -> str | None:
    """A date-time filter as the store writes time stamps (UTC, milliseconds, `Z`)."""
    text = request.args.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 date or date-time, "
                            f"like 2026-01-31T09:00:00Z; got {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(name: str) -> str | None:
    value = request.args.get(name) or None
    if value is not None and len(value) > MAX_FILTER:
        raise ApiError(400, f"{name} must have at most {MAX_FILTER} characters")
    return value


@bp.get("/audit")
@require_role("admin")
def list_audit() -> Response:
    limit = page_arg("limit", 50, MAX_LIMIT)
    offset = offset_arg()
    return jsonify(audit.matching(
        current_state().store, limit=limit, offset=offset, since=_moment("since"),
        until=_moment("until"), user=_text("user"), action=_text("action"),
        resource_type=_text("resourceType"), resource_name=_text("resource")))
