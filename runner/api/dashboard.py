"""Dashboard settings (`/api/v1/dashboard/config`): read by anyone, changed by admins.

gantry.yaml is admin-only by the write policy (`runner.auth.write_policy.DASHBOARD_ROLE`,
`dashboard_refusal`); the entity write path refuses an edit of that file by the same rule.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from ..auth import client_ip, current_user, require_role, write_policy
from ..catalog import dashboard
from ..catalog.git import Identity
from ..catalog.workspace import Workspace
from ..store import audit
from .common import current_state
from .errors import ApiError, json_body

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__, url_prefix="/api/v1/dashboard")


@bp.get("/config")
@require_role("viewer")
def get_config() -> Response:
    return jsonify(dashboard.read(current_state().settings.catalog))


@bp.put("/config")
@require_role(write_policy.DASHBOARD_ROLE)
def put_config() -> Response:
    """Replace the given keys in gantry.yaml with one commit by the caller."""
    state = current_state()
    user = current_user()
    refusal = write_policy.dashboard_refusal(write_policy.Writer(user.username, user.role))
    if refusal is not None:
        raise ApiError(403, refusal.message, rule=refusal.rule)
    body = json_body()
    author = Identity.for_user(user)
    workspace = state.workspace
    if workspace.read_only:
        reason = workspace.read_only_reason or "the catalog is read-only"
        raise ApiError(409, f"the dashboard cannot be changed: {reason}")
    changes = dashboard.validate(body)
    share = workspace.sync.push_commit if workspace.sync is not None else None
    before, after, commit = dashboard.write(state.settings.catalog, changes, author=author,
                                            lock=workspace.lock, share=share)
    if commit is not None:
        audit.record(state.store, user=user, action="update", resource_type="DashboardConfig",
                     resource_name=dashboard.CONFIG_NAME, ip=client_ip(),
                     before=before, after=after, commit=commit)
        _rebuild_site(workspace)
    return jsonify({**after, "commit": commit})


SITE_WAIT_SECONDS = 60.0


def _rebuild_site(workspace: Workspace) -> None:
    """Re-render the served site from the new gantry.yaml before answering."""
    try:
        workspace.config_changed()
        workspace.wait_for_site(SITE_WAIT_SECONDS)
    except Exception:  # the commit is done; a failed page rebuild must not undo it
        log.exception("the site could not be rebuilt after a dashboard change")
