"""The write policy as pure logic: every role, every operation, owners on either side."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from runner.auth import write_policy
from runner.auth.write_policy import Writer, dashboard_refusal, entity_write_refusal

TEAMS = {
    ("default", "blue"): ["dana", "frank"],
    ("default", "red"): ["frank"],
    ("default", "empty"): [],
    ("ops", "blue"): ["frank"],  # same name as default/blue, other members
    ("ops", "night"): ["dana"],
}


def members_of(namespace: str, name: str) -> Iterable[str] | None:
    return TEAMS.get((namespace, name))


def entity(name: str = "svc", owner: object = None, kind: str = "Service",
           namespace: str | None = None, **spec: object) -> dict:
    metadata: dict = {"name": name}
    if owner is not None:
        metadata["owner"] = owner
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "gantry.io/v1", "kind": kind, "metadata": metadata,
            "spec": {"type": "backend", **spec}}


def decide(role: str, operation: str, before: dict | None, after: dict | None,
           name: str = "dana") -> write_policy.Refusal | None:
    return entity_write_refusal(Writer(name, role), operation, before, after,  # type: ignore[arg-type]
                                members_of)


def writes(document: dict) -> list[tuple[str, dict | None, dict | None]]:
    """The three operations on one document: create it, update it unchanged, delete it."""
    return [("create", None, document), ("update", document, document),
            ("delete", document, None)]


@pytest.mark.parametrize("role", ["viewer", "", "superuser", "Developer"])
@pytest.mark.parametrize("owner", [None, "blue"])
def test_below_developer_or_unknown_roles_write_nothing(role: str, owner: str | None) -> None:
    for operation, before, after in writes(entity(owner=owner)):
        refusal = decide(role, operation, before, after)
        assert refusal is not None and refusal.rule == write_policy.RULE_ROLE
        assert "needs at least the developer role" in refusal.message
        assert f"'dana' may not {operation}" in refusal.message


@pytest.mark.parametrize("kind", ["Team", "Action", "team", "ACTION", "aCtIoN"])
def test_developers_never_write_team_or_action_entities(kind: str) -> None:
    document = entity(kind=kind, owner="blue")  # dana is a member of the owner: still no
    for operation, before, after in writes(document):
        refusal = decide("developer", operation, before, after)
        assert refusal is not None and refusal.rule == write_policy.RULE_PRIVILEGED_KIND
        assert refusal.message == (f"developer 'dana' may not write {kind.capitalize()} "
                                   "entities: Team and Action entities need platform-engineer")


def test_a_change_of_kind_on_either_side_counts() -> None:
    service, team = entity(owner="blue"), entity(kind="Team", owner="blue")
    for before, after in ((service, team), (team, service)):
        refusal = decide("developer", "update", before, after)
        assert refusal is not None and refusal.rule == write_policy.RULE_PRIVILEGED_KIND


@pytest.mark.parametrize("role", ["platform-engineer", "admin"])
@pytest.mark.parametrize("document", [entity(kind="Team", owner="red"),
                                      entity(kind="Action", owner="nobody-knows"),
                                      entity(owner="red"), entity()])
def test_platform_engineers_and_admins_write_anything(role: str, document: dict) -> None:
    for operation, before, after in writes(document):
        assert decide(role, operation, before, after, name="pat") is None


def test_developer_writes_the_entities_of_a_team_that_lists_them() -> None:
    for operation, before, after in writes(entity(owner="blue")):
        assert decide("developer", operation, before, after) is None


@pytest.mark.parametrize("owner", ["red", "empty", "default/red"])
def test_developer_is_refused_the_entities_of_other_teams(owner: str) -> None:
    for operation, before, after in writes(entity(owner=owner)):
        refusal = decide("developer", operation, before, after)
        assert refusal is not None and refusal.rule == write_policy.RULE_OWNER
        assert "does not list dana in spec.members" in refusal.message
        assert write_policy.RULES[write_policy.RULE_OWNER] in refusal.message


def test_moving_an_entity_needs_membership_of_both_owners() -> None:
    mine, theirs = entity(owner="blue"), entity(owner="red")
    away = decide("developer", "update", mine, theirs)
    assert away is not None and "new owner, team 'default/red'" in away.message
    back = decide("developer", "update", theirs, mine)
    assert back is not None and "current owner, team 'default/red'" in back.message
    assert decide("developer", "update", mine, entity(owner="ops/night")) is None


def test_an_entity_with_no_owner_on_either_side_is_open_to_developers() -> None:
    for operation, before, after in writes(entity()):
        assert decide("developer", operation, before, after, name="eve") is None
    assert decide("developer", "update", entity(owner=""), entity(), name="eve") is None


def test_a_side_without_owner_adds_no_condition_but_the_other_side_still_counts() -> None:
    assert decide("developer", "update", entity(), entity(owner="blue")) is None
    assert decide("developer", "update", entity(owner="blue"), entity()) is None
    claim = decide("developer", "update", entity(), entity(owner="red"))
    assert claim is not None and "new owner" in claim.message
    orphan = decide("developer", "update", entity(owner="red"), entity())
    assert orphan is not None and "current owner" in orphan.message


def test_owner_resolves_like_references_do_in_other_namespaces() -> None:
    # `blue` from namespace ops is ops/blue (frank only), not default/blue (dana's)
    refusal = decide("developer", "create", None, entity(owner="blue", namespace="ops"))
    assert refusal is not None and "team 'ops/blue'" in refusal.message
    # an explicit namespace wins; a name missing from the entity's namespace falls back to
    # default
    assert decide("developer", "create", None,
                  entity(owner="default/blue", namespace="ops")) is None
    assert decide("developer", "create", None, entity(owner="night", namespace="ops")) is None
    assert decide("developer", "create", None, entity(owner="blue", namespace="qa")) is None
    refusal = decide("developer", "create", None, entity(owner="night", namespace="qa"))
    assert refusal is not None and "names no Team" in refusal.message


@pytest.mark.parametrize("owner", ["no-such-team", "ops/no-such", 7, ["blue"], {"name": "blue"}])
def test_an_owner_that_names_no_team_is_refused_to_developers(owner: object) -> None:
    for operation, before, after in writes(entity(owner=owner)):
        refusal = decide("developer", operation, before, after)
        assert refusal is not None and refusal.rule == write_policy.RULE_OWNER
        assert "names no Team of the catalog" in refusal.message


def test_membership_is_asked_of_the_catalog_before_the_write() -> None:
    """The policy reads members only through `members_of`; the document being written (a
    Team listing the writer, say) is never taken for membership."""
    asked: list[tuple[str, str]] = []

    def recording(namespace: str, name: str) -> Iterable[str] | None:
        asked.append((namespace, name))
        return ["someone-else"]

    team = entity(kind="Team", name="red", owner="red", members=[{"name": "eve"}])
    refusal = entity_write_refusal(Writer("eve", "developer"), "update", team, team, recording)
    assert refusal is not None and refusal.rule == write_policy.RULE_PRIVILEGED_KIND
    service = entity(owner="red")
    refusal = entity_write_refusal(Writer("eve", "developer"), "update", service, service,
                                   recording)
    assert refusal is not None and asked == [("default", "red")]


def test_bad_calls_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        decide("developer", "rename", entity(), entity())
    with pytest.raises(ValueError):
        decide("developer", "update", None, None)


@pytest.mark.parametrize("role, allowed", [("viewer", False), ("developer", False),
                                           ("platform-engineer", False), ("admin", True)])
def test_the_dashboard_is_admin_only(role: str, allowed: bool) -> None:
    refusal = dashboard_refusal(Writer("someone", role))
    assert (refusal is None) is allowed
    if refusal is not None:
        assert refusal.rule == write_policy.RULE_DASHBOARD
        assert "gantry.yaml (the dashboard) is admin-only" in refusal.message


class _Catalog:
    """A stand-in catalog the executor must never reach: the role check comes first."""


def test_an_internal_run_whose_requester_role_is_unknown_writes_nothing() -> None:
    from runner.actions.executors.internal import EXECUTOR
    from tests.actions.drive import drive, make_context

    config = {"operation": "delete", "target": {"kind": "Service", "name": "any"}}
    step, _ = drive(EXECUTOR, make_context(config, workspace=_Catalog(), requester_role=None))
    assert "the requester 'alice' has no account on this runner any more" in \
        getattr(step, "error", "")
    assert "nothing was written" in getattr(step, "error", "")
