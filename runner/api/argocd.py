"""Live ArgoCD endpoints of the entity panel (`/api/v1/plugins/argocd/...`).

`{app_name}` matches any text, slashes included, so that a name holding a slash (or `%2F`)
reaches the name check and is refused with 400 — like `.`, `..` and every other name ArgoCD
could not hold (`runner.plugins.argocd.client.check_app_name`) — before any request to
ArgoCD, instead of falling through to another route.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.routing import BaseConverter

from ..auth import client_ip, current_user, require_role
from ..store import audit
from .common import argocd_answers, current_state, host
from .errors import ApiError, json_body

bp = Blueprint("argocd", __name__, url_prefix="/api/v1/plugins/argocd")
MAX_ENTITY_APPS = 50


class AnyName(BaseConverter):
    """A URL part that may hold slashes (even a lone one), checked by the view, not routing."""

    regex = ".+?"
    part_isolating = False


@bp.record_once
def _converter(setup: Any) -> None:
    """Registered before the routes below (deferred functions run in order)."""
    setup.app.url_map.converters["anyname"] = AnyName


def _instance() -> str | None:
    return request.args.get("instance") or None


@bp.get("/apps/<anyname:app_name>")
@require_role("viewer")
def app_detail(app_name: str) -> Response:
    """Sync and health status, last sync, and the managed resources of one application."""
    service = host().argocd
    with argocd_answers(service.secrets):
        return jsonify(service.app(app_name, _instance()))


def _operate(app_name: str, operation: str) -> Response:
    body = json_body(required=False)
    hard = body.get("hard", False)
    prune = body.get("prune", False)
    if not isinstance(hard, bool) or not isinstance(prune, bool):
        raise ApiError(400, '"hard" and "prune" must be booleans')
    instance = body.get("instance") or _instance()
    if instance is not None and not isinstance(instance, str):
        raise ApiError(400, '"instance" must be a string')
    service = host().argocd
    with argocd_answers(service.secrets):
        if operation == "sync":
            view = service.sync(app_name, hard=hard, prune=prune, instance=instance)
        else:
            view = service.refresh(app_name, instance)
    audit.record(current_state().store, user=current_user(), action=f"argocd.{operation}",
                 resource_type="ArgoCDApplication",
                 resource_name=f"{view['instance']}:{view['name']}", ip=client_ip(),
                 details={"hard": hard, "prune": prune} if operation == "sync" else None)
    return jsonify(view)


@bp.post("/apps/<anyname:app_name>/sync")
@require_role("developer")
def sync_app(app_name: str) -> Response:
    """Start a sync; `{"hard": true}` prunes and forces a re-apply."""
    return _operate(app_name, "sync")


@bp.post("/apps/<anyname:app_name>/refresh")
@require_role("developer")
def refresh_app(app_name: str) -> Response:
    """Ask ArgoCD to re-read the Git source without syncing."""
    return _operate(app_name, "refresh")


@bp.get("/entity-apps")
@require_role("viewer")
def entity_apps() -> Response:
    """`?appNames=instance:app,…` — the apps of one entity, each with its status."""
    raw = request.args.get("appNames", "")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise ApiError(400, "appNames is required: a comma-separated list of instance:app")
    if len(names) > MAX_ENTITY_APPS:
        raise ApiError(400, f"at most {MAX_ENTITY_APPS} appNames per request")
    service = host().argocd
    with argocd_answers(service.secrets):
        return jsonify(service.entity_apps(names))
