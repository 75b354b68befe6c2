"""`GET /api/v1/health-check?url=`: a service's health, fetched safely for the browser."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .. import healthcheck
from ..auth import require_role
from .common import current_state
from .errors import ApiError

bp = Blueprint("healthcheck_proxy", __name__, url_prefix="/api/v1")


@bp.get("/health-check")
@require_role("viewer")
def health_check() -> Response:
    """400 for any URL that is not a public http(s) target; otherwise up/down and latency."""
    url = request.args.get("url", "")
    allowed = current_state().settings.healthcheck_allowed_networks
    try:
        target = healthcheck.check_url(url, allowed)
    except healthcheck.UnsafeTarget as exc:
        raise ApiError(400, f"unsafe health-check URL: {exc}") from None
    return jsonify(healthcheck.probe(target))
