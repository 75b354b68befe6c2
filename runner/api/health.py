"""Liveness, readiness and Prometheus metrics (public, outside `/api/v1`)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from ..catalog.workspace import Workspace
from ..metrics import CONTENT_TYPE
from ..store.db import StoreError
from .common import current_state

log = logging.getLogger(__name__)

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
    checks["index"] = _index_status(state.workspace)
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:
        body["error"] = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    resp = jsonify(body)
    resp.status_code = 200 if ready else 503
    return resp


DUCKDB_MAGIC = b"DUCK"


def _index_status(workspace: Workspace) -> str:
    index_path = workspace.index_path
    try:
        with open(index_path, "rb") as handle:
            header = handle.read(12)
    except OSError as exc:
        return f"index cannot be read: {exc}"
    if header[8:12] != DUCKDB_MAGIC:
        return f"index {index_path} is not a DuckDB database"
    try:
        con = workspace.connect()
        try:
            con.execute("SELECT count(*) FROM entities").fetchone()
        finally:
            con.close()
    except Exception as exc:  # any failure to read the index means not ready
        log.warning("index not readable: %s", exc)
        return f"index cannot be read: {exc}"
    return "ok"


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return Response(current_state().metrics.render(), content_type=CONTENT_TYPE)
