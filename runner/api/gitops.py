"""GitOps status, history, tracked files, push and pull (`/api/v1/plugins/gitops/...`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, jsonify

from ..auth import client_ip, current_user, require_role
from ..plugins.gitops.repo import GitOpsError
from ..store import audit
from .common import current_state, host
from .errors import ApiError

T = TypeVar("T")
bp = Blueprint("gitops", __name__, url_prefix="/api/v1/plugins/gitops")


def _call(view: Callable[[], T]) -> T:
    """Run a GitOps call; a failure of `git` itself (`GitOpsError`, which carries no status)
    is the remote's or the repository's problem: 502."""
    try:
        return view()
    except GitOpsError as exc:
        raise ApiError(502, str(exc)) from None


@bp.get("/status")
@require_role("platform-engineer")
def status() -> Response:
    return jsonify(_call(host().gitops.status))


@bp.get("/history")
@require_role("platform-engineer")
def history() -> Response:
    """Push and pull operations, newest first (at most 100)."""
    return jsonify(_call(host().gitops.history))


@bp.get("/files")
@require_role("platform-engineer")
def files() -> Response:
    """Every entity file tracked in Git: path (relative to the catalog), kind, namespace, name."""
    return jsonify(_call(host().gitops.files))


def _queue(operation: str) -> tuple[Response, int]:
    """Queue a push or pull for the caller (admin only) and answer 202 at once."""
    user = current_user()
    if user.role != "admin":
        raise ApiError(403, f"GitOps {'sync' if operation == 'push' else operation} "
                       "requires the admin role")
    accepted = _call(lambda: host().gitops.submit(operation, user.username))
    audit.record(current_state().store, user=user, action=f"gitops.{operation}",
                 resource_type="Plugin", resource_name="gitops", ip=client_ip(),
                 details={"queued": accepted})
    message = f"{operation} queued" if accepted else f"a {operation} is already queued"
    return jsonify({"accepted": accepted, "operation": operation, "message": message}), 202


@bp.post("/sync")
@require_role("admin")
def sync() -> tuple[Response, int]:
    """Push the runner's pending commits (fetch + rebase + retry when the remote moved)."""
    return _queue("push")


@bp.post("/pull")
@require_role("admin")
def pull() -> tuple[Response, int]:
    """Fetch and integrate the remote's commits, then re-index what changed."""
    return _queue("pull")
