"""Who may write which entity: the one write policy every catalog write consults.

The catalog carries authorization data (Team `spec.members`, Action `spec.permissions`),
so writing it is itself a privilege: a user must never gain a right by editing the
catalog. The rules (DESIGN.md, "Trust model"):

- `viewer` writes nothing.
- `developer` creates, updates and deletes entities whose owning team lists them in
  `spec.members`: on create the owner in the new document, on update both the current
  and the new owner, on delete the current one. A side with no `metadata.owner` adds no
  condition, so an entity with no owner on either side is open to any developer.
- Team and Action entities need `platform-engineer` (they decide who may run and approve).
- `platform-engineer` and `admin` write any entity.
- `gantry.yaml` (the dashboard settings) is admin-only.

This module is pure logic: the caller supplies the documents before and after the write
and a way to read a Team's members *as the catalog holds them before the write*, so a
write can never rely on the membership it is itself adding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .roles import at_least

Operation = Literal["create", "update", "delete"]
OPERATIONS: tuple[Operation, ...] = ("create", "update", "delete")

WRITE_ROLE = "developer"
"""The lowest role that may write entities at all (subject to ownership)."""
WRITE_ANY_ROLE = "platform-engineer"
"""The lowest role that may write any entity, Team and Action entities included."""
DASHBOARD_ROLE = "admin"
"""The role that may change gantry.yaml (`PUT /api/v1/dashboard/config`)."""
PRIVILEGED_KINDS = ("Team", "Action")
"""Kinds that carry authorization data: members, allowed roles and teams, approvals."""
DEFAULT_NAMESPACE = "default"

RULE_ROLE = "role"
RULE_PRIVILEGED_KIND = "privileged-kind"
RULE_OWNER = "owner-membership"
RULE_DASHBOARD = "dashboard-admin-only"

RULES = {
    RULE_ROLE: f"writing entities needs at least the {WRITE_ROLE} role",
    RULE_PRIVILEGED_KIND: f"{' and '.join(PRIVILEGED_KINDS)} entities need {WRITE_ANY_ROLE}",
    RULE_OWNER: ("developers write only entities whose owning team lists them in "
                 "spec.members (on update both the current and the new owner)"),
    RULE_DASHBOARD: f"gantry.yaml (the dashboard) is {DASHBOARD_ROLE}-only",
}
"""Each rule's id and the sentence a refusal quotes."""

MembersOf = Callable[[str, str], Iterable[str] | None]
"""`(namespace, team name)` → the member names of that Team entity, None when no such Team."""


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes: the user name and the effective role (an API key may lower it)."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a write is refused: the rule's id and a message that quotes the rule."""

    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def _metadata(document: dict[str, Any] | None) -> dict[str, Any]:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _label(document: dict[str, Any]) -> str:
    metadata = _metadata(document)
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    return f"{document.get('kind')} '{namespace}/{metadata.get('name')}'"


def owner_of(document: dict[str, Any] | None) -> object:
    """`metadata.owner` as written; None when the document names no owner."""
    owner = _metadata(document).get("owner")
    return None if owner is None or owner == "" else owner


def owner_candidates(document: dict[str, Any], owner: str) -> list[tuple[str, str]]:
    """Where the owning Team may be, in the order references resolve: an explicit
    `namespace/name`, else the entity's own namespace, else `default`."""
    namespace, slash, name = owner.rpartition("/")
    if slash:
        return [(namespace, name)]
    own = _metadata(document).get("namespace") or DEFAULT_NAMESPACE
    places = [(str(own), owner)]
    if own != DEFAULT_NAMESPACE:
        places.append((DEFAULT_NAMESPACE, owner))
    return places


def owning_team(document: dict[str, Any], members_of: MembersOf
                ) -> tuple[str, frozenset[str] | None]:
    """The owning team as `namespace/name` (or as written when it resolves to no Team)
    and its members; None members when the owner names no Team of the catalog."""
    owner = owner_of(document)
    if not isinstance(owner, str):
        return repr(owner), None
    for namespace, name in owner_candidates(document, owner):
        members = members_of(namespace, name)
        if members is not None:
            return f"{namespace}/{name}", frozenset(members)
    return owner, None


def _member_refusal(writer: Writer, operation: Operation, document: dict[str, Any],
                    members_of: MembersOf, which: str, subject: dict[str, Any]) -> Refusal | None:
    if owner_of(document) is None:
        return None
    team, members = owning_team(document, members_of)
    if members is not None and writer.name in members:
        return None
    if members is None:
        why = f"its {which} {team} names no Team of the catalog"
    else:
        why = f"its {which}, team '{team}', does not list {writer.name} in spec.members"
    return Refusal(RULE_OWNER, f"{writer.role} '{writer.name}' may not {operation} "
                               f"{_label(subject)}: {why}; {RULES[RULE_OWNER]}")


def entity_write_refusal(writer: Writer, operation: Operation,
                         before: dict[str, Any] | None, after: dict[str, Any] | None,
                         members_of: MembersOf) -> Refusal | None:
    """Why `writer` may not perform this write, or None when the policy allows it.

    `before` is the entity as the catalog holds it (None on create), `after` the document
    to be written (None on delete). `members_of` must answer from the catalog as it is
    before the write.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    subject = after if after is not None else before
    if subject is None:
        raise ValueError("a write needs the entity before or after it")
    if not at_least(writer.role, WRITE_ROLE):
        return Refusal(RULE_ROLE, f"{writer.role} '{writer.name}' may not {operation} "
                                  f"{_label(subject)}: {RULES[RULE_ROLE]}")
    if at_least(writer.role, WRITE_ANY_ROLE):
        return None
    for document in (before, after):
        kind = document.get("kind") if isinstance(document, dict) else None
        if isinstance(kind, str) and kind.lower() in {k.lower() for k in PRIVILEGED_KINDS}:
            canonical = next(k for k in PRIVILEGED_KINDS if k.lower() == kind.lower())
            return Refusal(RULE_PRIVILEGED_KIND,
                           f"{writer.role} '{writer.name}' may not write {canonical} "
                           f"entities: {RULES[RULE_PRIVILEGED_KIND]}")
    if before is not None:
        which = "owner" if operation == "delete" else "current owner"
        refusal = _member_refusal(writer, operation, before, members_of, which, subject)
        if refusal is not None:
            return refusal
    if after is not None:
        which = "owner" if operation == "create" else "new owner"
        return _member_refusal(writer, operation, after, members_of, which, subject)
    return None


def dashboard_refusal(writer: Writer) -> Refusal | None:
    """Why `writer` may not change gantry.yaml, or None for an admin."""
    if at_least(writer.role, DASHBOARD_ROLE):
        return None
    return Refusal(RULE_DASHBOARD, f"{writer.role} '{writer.name}' may not change the "
                                   f"dashboard: {RULES[RULE_DASHBOARD]}")


__all__ = ["DASHBOARD_ROLE", "MembersOf", "OPERATIONS", "PRIVILEGED_KINDS", "RULES",
           "Refusal", "WRITE_ANY_ROLE", "WRITE_ROLE", "Writer", "dashboard_refusal",
           "entity_write_refusal", "owner_candidates", "owner_of", "owning_team"]
