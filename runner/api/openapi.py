"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the whole API (public)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from .. import openapi

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def document() -> Response:
    return jsonify(openapi.build(current_app, server_url=request.host_url.rstrip("/")))
