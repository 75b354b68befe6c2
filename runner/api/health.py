"""Liveness, readiness and Prometheus metrics (public, outside `/api/v1`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..metrics import CONTENT_TYPE
from ..store.db import StoreError
from .common import current_state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """503 when the store or the index cannot be read, so a balancer stops sending traffic."""
    state = current_state()
    checks: dict[str, str] = {}
    try:
        state.store.check()
        checks["store"] = "ok"
    except StoreError as exc:
        checks["store"] = str(exc)
    checks["index"] = state.workspace.index_problem() or "ok"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:
        body["error"] = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    resp = jsonify(body)
    resp.status_code = 200 if ready else 503
    return resp


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(current_state().metrics.render(), content_type=CONTENT_TYPE)
