"""Who may run an action and who may approve a run.

Running needs at least the developer role; when the action sets `allowedRoles` or
`allowedTeams`, the caller's role must be listed or the caller must be a member of a listed
team (Team entities' `spec.members[].name`). Approving needs at least the developer role and a
place in `approvers` (by user name or through a listed team); the requester never approves
their own run. When `requireApproval` is set with no `approvers`, admins approve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from runner.auth.roles import at_least

MINIMUM_ROLE = "developer"


def permissions_of(action: dict[str, Any]) -> dict[str, Any]:
    """`spec.permissions` of an Action entity, `{}` when absent."""
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    permissions = spec.get("permissions")
    return permissions if isinstance(permissions, dict) else {}


def _names(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def requires_approval(action: dict[str, Any]) -> bool:
    return permissions_of(action).get("requireApproval") is True


def execute_refusal(
    action: dict[str, Any], username: str, role: str, teams: Iterable[str]
) -> str | None:
    """Why this caller may not run the action, or None when they may."""
    if not at_least(role, MINIMUM_ROLE):
        return f"running an action needs at least the {MINIMUM_ROLE} role"
    permissions = permissions_of(action)
    allowed_roles = _names(permissions.get("allowedRoles"))
    allowed_teams = _names(permissions.get("allowedTeams"))
    if not allowed_roles and not allowed_teams:
        return None
    if role in allowed_roles or set(teams) & set(allowed_teams):
        return None
    wanted = []
    if allowed_roles:
        wanted.append("a role among " + ", ".join(allowed_roles))
    if allowed_teams:
        wanted.append("membership of " + ", ".join(allowed_teams))
    return f"{username} may not run this action: it needs " + " or ".join(wanted)


def approve_refusal(
    action: dict[str, Any],
    requester: str,
    username: str,
    role: str,
    teams: Iterable[str],
) -> str | None:
    """Why this user may not approve (or reject) a run of the action, or None when they may."""
    if username == requester:
        return "the requester of a run cannot approve or reject it"
    if not at_least(role, MINIMUM_ROLE):
        return f"approving needs at least the {MINIMUM_ROLE} role"
    approvers = _names(permissions_of(action).get("approvers"))
    if not approvers:
        return None if role == "admin" else "this action lists no approvers: only admins approve"
    if username in approvers or set(teams) & set(approvers):
        return None
    return f"{username} is not an approver of this action"


def teams_for(user: Any, lookup: Callable[[str], Iterable[str]] | None) -> list[str]:
    """The user's teams: those carried by the user, else those found through `lookup`."""
    teams = list(getattr(user, "teams", None) or [])
    if not teams and lookup is not None:
        teams = list(lookup(user.username))
    return teams
