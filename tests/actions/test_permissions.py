import pytest

from runner.actions.permissions import approve_refusal, execute_refusal


def action(**permissions):
    return {"spec": {"permissions": permissions}}


@pytest.mark.parametrize(
    "permissions, role, teams, allowed",
    [
        ({}, "viewer", [], False),
        ({}, "developer", [], True),
        ({"allowedRoles": ["platform-engineer"]}, "developer", [], False),
        ({"allowedRoles": ["platform-engineer"]}, "platform-engineer", [], True),
        ({"allowedRoles": ["platform-engineer"]}, "admin", [], False),
        ({"allowedTeams": ["sre-team"]}, "developer", ["sre-team"], True),
        ({"allowedTeams": ["sre-team"]}, "developer", ["data-team"], False),
        ({"allowedTeams": ["sre-team"]}, "viewer", ["sre-team"], False),
        ({"allowedRoles": ["admin"], "allowedTeams": ["sre-team"]}, "developer", ["sre-team"],
         True),
    ],
)
def test_execute(permissions, role, teams, allowed):
    refusal = execute_refusal(action(**permissions), "alice", role, teams)
    assert (refusal is None) == allowed, refusal


def test_approvers_by_name_and_team_never_the_requester():
    rules = action(requireApproval=True, approvers=["carol", "sre-team"])
    assert approve_refusal(rules, "alice", "carol", "developer", []) is None
    assert approve_refusal(rules, "alice", "judy", "developer", ["sre-team"]) is None
    assert "not an approver" in approve_refusal(rules, "alice", "bob", "developer", ["x"])
    assert "requester" in approve_refusal(rules, "carol", "carol", "admin", [])
    assert "developer" in approve_refusal(rules, "alice", "carol", "viewer", [])


def test_without_approvers_only_admins_decide():
    rules = action(requireApproval=True)
    assert approve_refusal(rules, "alice", "root", "admin", []) is None
    assert approve_refusal(rules, "alice", "bob", "platform-engineer", []) is not None
    assert approve_refusal(rules, "root", "root", "admin", []) is not None
