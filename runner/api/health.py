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
    """200 once the store and the index can be read; 503 before (while the index is brought
    up at start) and whenever either cannot be read, so a balancer sends no traffic.

    `warming` names what is still being brought up (the site renders after the API is
    ready); it is informative and does not make the answer 503 by itself.
    """
    state = current_state()
    workspace = state.workspace
    warming = dict(workspace.warming)
    checks: dict[str, str] = {}
    try:
        state.store.check()
        checks["store"] = "ok"
    except StoreError as exc:
        checks["store"] = str(exc)
    if "index" in warming:
        checks["index"] = f"warming: {warming['index']}"
    else:
        checks["index"] = workspace.index_problem() or "ok"
    ready = all(value == "ok" for value in checks.values())
    status = "ok" if ready else "warming" if "index" in warming else "unavailable"
    body: dict = {"status": status, "checks": checks, "warming": warming}
    if not ready:
        body["error"] = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    resp = jsonify(body)
    resp.status_code = 200 if ready else 503
    return resp


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(current_state().metrics.render(), content_type=CONTENT_TYPE)
