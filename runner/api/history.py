"""Each user's recently viewed entities (`/api/v1/history`)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify

from ..auth import current_user, require_role
from ..store import history
from .common import current_state
from .errors import ApiError, json_body
from .params import page_arg

bp = Blueprint("history", __name__, url_prefix="/api/v1")

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")


@bp.post("/history")
@require_role("viewer")
def record_view() -> Response:
    """Remember that the caller viewed an entity (it moves to the top, max 20 kept)."""
    body = json_body()
    kind, name = body.get("kind"), body.get("name")
    namespace = body.get("namespace") or "default"
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ApiError(400, "kind must be an entity kind such as 'Service'")
    for field, value in (("name", name), ("namespace", namespace)):
        if not isinstance(value, str) or not _NAME.match(value):
            raise ApiError(400, f"{field} must match {_NAME.pattern}")
    store = current_state().store
    user = current_user()
    history.record(store, user.id, kind=kind, namespace=namespace, name=name)
    return jsonify(history.recent(store, user.id)), 201


@bp.get("/history")
@require_role("viewer")
def recent_views() -> Response:
    """The caller's recently viewed entities, newest first.

    A `limit` above what is kept answers what is kept, as page sizes elsewhere are clamped.
    """
    limit = page_arg("limit", history.MAX_ENTRIES, history.MAX_ENTRIES)
    return jsonify(history.recent(current_state().store, current_user().id, limit))
