"""Actions and their runs (`/api/v1/actions/...`): list, execute, follow, approve, reject.

Execution is checked here in this order — the action exists, it is runnable (type, config,
input declarations), the caller may run it, the inputs are valid — and only then is a run
created; the engine executes it off the request path. Every execution and every approval
decision is audited with the caller's address and the inputs with secrets redacted. Runs are
shown through `engine.public_run`, the same redaction the WebSocket events and audit get.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..actions.checks import action_problems
from ..actions.engine import public_run
from ..actions.inputs import validate_inputs
from ..actions.permissions import approve_refusal, execute_refusal, teams_for
from ..auth import client_ip, current_user, require_role
from ..catalog.workspace import Workspace
from ..store import audit
from ..store import runs as run_store
from .common import GantryState, current_state
from .errors import ApiError, json_body
from .params import offset_arg, page_arg

log = logging.getLogger(__name__)
bp = Blueprint("actions", __name__, url_prefix="/api/v1/actions")

MAX_PAGE = 500


def _all_actions(workspace: Workspace) -> list[dict[str, Any]]:
    return [item for item in workspace.actions() if isinstance(item, dict)]


def _find_action(state: GantryState, name: str) -> dict[str, Any]:
    namespace = request.args.get("namespace") or "default"
    found = state.workspace.entity("Action", name, namespace)
    if found is None:
        raise ApiError(404, f"action {name!r} not found in namespace {namespace!r}")
    return found


def _page() -> tuple[int, int]:
    return page_arg("limit", 50, MAX_PAGE), offset_arg()


def _status_filter() -> str | None:
    status = request.args.get("status")
    if status is not None and status not in run_store.STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(run_store.STATUSES)}")
    return status


def _shown(state: GantryState, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [public_run(run, state.secrets.decrypt) for run in found]


@bp.get("")
@require_role("viewer")
def list_actions() -> Response:
    """Every Action entity, each with `problems` (empty when it can run)."""
    shown = []
    workspace = current_state().workspace
    for action in _all_actions(workspace):
        shown.append({**action, "problems": action_problems(action, workspace.registry)})
    return jsonify(shown)


@bp.get("/runs")
@require_role("viewer")
def all_runs() -> Response:
    """Runs of every action, newest first (`limit`, `offset`, `status`)."""
    limit, offset = _page()
    state = current_state()
    found = run_store.list_runs(state.store, status=_status_filter(), limit=limit,
                                offset=offset)
    return jsonify(_shown(state, found))


@bp.get("/<name>")
@require_role("viewer")
def get_action(name: str) -> Response:
    action = _find_action(current_state(), name)
    registry = current_state().workspace.registry
    return jsonify({**action, "problems": action_problems(action, registry)})


@bp.post("/<name>/execute")
@require_role("developer")
def execute(name: str) -> tuple[Response, int]:
    """Create a run: 201 with it, or 403/404/422 before anything runs."""
    state = current_state()
    user = current_user()
    body = json_body(required=False)
    action = _find_action(state, name)
    problems = action_problems(action, state.workspace.registry)
    if problems:
        raise ApiError(422, f"action {name!r} is misconfigured", problems=problems)
    teams = teams_for(user, state.workspace.teams_of)
    refusal = execute_refusal(action, user.username, user.role, teams)
    if refusal:
        raise ApiError(403, refusal)
    checked = validate_inputs(action, body.get("inputs"))
    if not checked.ok:
        raise ApiError(422, "invalid inputs", fields=checked.errors)
    run = state.engine.submit(action, checked.values, user.username, user.email,
                              triggered_by_role=user.role)
    audit.record(
        state.store, user=user, action="execute", resource_type="Action", resource_name=name,
        source="api", ip=client_ip(), after=run,
        details={"runId": run["id"], "inputs": run["inputs"]},
    )
    return jsonify(run), 201


@bp.get("/<name>/runs")
@require_role("viewer")
def action_runs(name: str) -> Response:
    limit, offset = _page()
    state = current_state()
    found = run_store.list_runs(state.store, action_name=name,
                                status=_status_filter(), limit=limit, offset=offset)
    return jsonify(_shown(state, found))


def _run_of(state: GantryState, name: str, run_id: str) -> dict[str, Any]:
    run = run_store.get(state.store, run_id)
    if run is None or run["action_name"] != name:
        raise ApiError(404, f"run {run_id!r} of action {name!r} not found")
    return run


@bp.get("/<name>/runs/<run_id>")
@require_role("viewer")
def get_run(name: str, run_id: str) -> Response:
    state = current_state()
    return jsonify(public_run(_run_of(state, name, run_id), state.secrets.decrypt))


def _decide(name: str, run_id: str, approve: bool) -> Response:
    state = current_state()
    user = current_user()
    body = json_body(required=False)
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ApiError(400, "reason must be a string")
    run = _run_of(state, name, run_id)
    if run["phase"] != "approval":
        raise ApiError(409, f"run {run_id} is not waiting for approval (status {run['status']})")
    teams = teams_for(user, state.workspace.teams_of)
    refusal = approve_refusal(run["action"], run["triggered_by"], user.username, user.role, teams)
    if refusal:
        raise ApiError(403, refusal)
    decided = state.engine.decide(run_id, user.username, approve, reason)
    audit.record(
        state.store, user=user, action="approve" if approve else "reject",
        resource_type="ActionRun", resource_name=f"{name}/{run_id}", source="api",
        ip=client_ip(), details={"runId": run_id, "reason": reason or ""},
    )
    return jsonify(decided)


@bp.post("/<name>/runs/<run_id>/approve")
@require_role("developer")
def approve(name: str, run_id: str) -> Response:
    """Approve a pending run (an approver other than the requester); it then executes."""
    return _decide(name, run_id, True)


@bp.post("/<name>/runs/<run_id>/reject")
@require_role("developer")
def reject(name: str, run_id: str) -> Response:
    """Reject a pending run; it fails with the reason."""
    return _decide(name, run_id, False)


def report_misconfigured(workspace: Workspace) -> None:
    """Log every action that cannot run, once at start, so operators see it without a click."""
    try:
        actions = _all_actions(workspace)
    except Exception:  # the index may not be readable yet; the list endpoint reports later
        log.warning("actions could not be checked at start", exc_info=True)
        return
    for action in actions:
        problems = action_problems(action, workspace.registry)
        if problems:
            name = (action.get("metadata") or {}).get("name")
            log.warning("action %s cannot run: %s", name, "; ".join(problems))
