"""The write policy over HTTP on a real runner and a real Git repository.

Nobody gains a right by editing the catalog: developers write only the entities of teams
that list them (before and after the write), never Team or Action entities; an `internal`
action writes with its requester's rights; the dashboard stays admin-only. Every refusal
is a 403 naming the rule and leaves no file change and no commit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.runner_process import RunnerProcess, git

from .portal import Portal

PRIVILEGED = "Team and Action entities need platform-engineer"
OWNERSHIP = "developers write only entities whose owning team lists them in spec.members"

TEAMS = {  # (namespace, name): members
    ("default", "wp-blue"): ["wp-dana"],
    ("default", "wp-red"): ["wp-frank"],
    ("ops", "wp-blue"): ["wp-frank"],  # same name as default/wp-blue, other members
    ("ops", "wp-night"): ["wp-dana"],
    ("default", "wp-approvers"): ["wp-grace"],
}
DEVELOPERS = ("wp-dana", "wp-eve", "wp-frank", "wp-grace")  # wp-eve is in no team


def team(namespace: str, name: str, members: list[str]) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Team",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"members": [{"name": member} for member in members]}}


def service(name: str, owner: str | None, namespace: str = "default") -> dict:
    metadata: dict = {"name": name, "namespace": namespace, "description": "write policy"}
    if owner is not None:
        metadata["owner"] = owner
    return {"apiVersion": "gantry.io/v1", "kind": "Service", "metadata": metadata,
            "spec": {"type": "backend", "lifecycle": "development"}}


def action(name: str, config: dict, permissions: dict, inputs: list | None = None,
           owner: str = "wp-blue") -> dict:
    spec: dict = {"type": "internal", "config": config, "permissions": permissions}
    if inputs:
        spec["inputs"] = inputs
    return {"apiVersion": "gantry.io/v1", "kind": "Action",
            "metadata": {"name": name, "owner": owner}, "spec": spec}


GUARDED = action("wp-guarded",
                 {"operation": "update", "target": {"kind": "Service", "name": "wp-blue-svc"},
                  "setLabels": {"guarded": "yes"}},
                 {"allowedRoles": ["platform-engineer"], "allowedTeams": ["wp-blue"],
                  "requireApproval": True, "approvers": ["wp-approvers"]})
RELABEL_TEAM = action("wp-relabel-team",
                      {"operation": "update", "target": {"kind": "Team", "name": "wp-red"},
                       "setLabels": {"reviewed-by": "{{ run.triggeredBy }}"}},
                      {"allowedRoles": ["developer", "platform-engineer"]})
DESCRIBE = action("wp-describe",
                  {"operation": "update",
                   "target": {"kind": "Service", "name": "{{ inputs.service }}"},
                   "set": {"metadata.description": "described by {{ run.triggeredBy }}"}},
                  {"allowedRoles": ["developer"]},
                  inputs=[{"name": "service", "type": "string", "required": True}])
GATED = action("wp-gated",
               {"operation": "update", "target": {"kind": "Service", "name": "wp-blue-svc"},
                "setLabels": {"approved-run": "{{ run.id }}"}},
               {"allowedRoles": ["developer"], "requireApproval": True,
                "approvers": ["wp-approvers"]})


@dataclass
class Crew:
    portal: Portal
    tokens: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        token = self.tokens.get(who) or self.portal.tokens[who]
        return self.portal.runner.client(token)


@pytest.fixture(scope="module")
def crew(portal: Portal) -> Crew:
    """Developers with known memberships, their teams, Services of two teams and the test
    actions, all written by a platform engineer (who may write anything)."""
    tokens = {name: portal.runner.create_user(name, "developer") for name in DEVELOPERS}
    with portal.client("platform-engineer") as client:
        documents = [team(ns, name, members) for (ns, name), members in TEAMS.items()]
        documents += [service("wp-blue-svc", "wp-blue"), service("wp-red-svc", "wp-red"),
                      service("wp-ops-svc", "wp-blue", "ops"),
                      GUARDED, RELABEL_TEAM, DESCRIBE, GATED]
        for document in documents:
            response = client.post("/api/v1/entities", json=document)
            assert response.status_code == 201, response.text
    return Crew(portal, tokens)


def path_of(portal: Portal, kind: str, name: str, namespace: str = "default") -> Path:
    return portal.catalog / kind / namespace / f"{name}.yaml"


def state_of(portal: Portal, path: Path) -> tuple[str, str, bytes | None]:
    """HEAD, `git status` and the file's bytes: what a refused write must not move."""
    return (portal.head(), portal.git("status", "--porcelain"),
            path.read_bytes() if path.exists() else None)


def assert_refused(response: httpx.Response, rule: str, *fragments: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["rule"] == rule
    for fragment in fragments:
        assert fragment in body["error"]


def wait_for_run(crew: Crew, name: str, run_id: str,
                 statuses: tuple[str, ...] = ("success", "failed")) -> dict:
    deadline = time.monotonic() + 30
    with crew.client("admin") as client:
        while True:
            run = client.get(f"/api/v1/actions/{name}/runs/{run_id}").json()
            if run["status"] in statuses or time.monotonic() > deadline:
                return run
            time.sleep(0.05)


# --- Team entities: membership is not writable by developers -------------------------------

@pytest.mark.parametrize("who, namespace, name, url_kind", [
    ("wp-eve", "default", "wp-red", "team"),
    ("wp-eve", "default", "wp-red", "TEAM"),
    ("wp-eve", "ops", "wp-blue", "Team"),
    ("wp-dana", "default", "wp-blue", "tEaM"),  # a member cannot widen their own team either
])
def test_developer_adding_themselves_to_a_team_is_refused(crew: Crew, who: str,
                                                          namespace: str, name: str,
                                                          url_kind: str) -> None:
    portal = crew.portal
    path = path_of(portal, "Team", name, namespace)
    before = state_of(portal, path)
    with crew.client(who) as client:
        body = client.get(f"/api/v1/entities/team/{name}", params={"namespace": namespace}).json()
        body["spec"]["members"].append({"name": who if who != "wp-dana" else "wp-eve"})
        response = client.put(f"/api/v1/entities/{url_kind}/{name}",
                              params={"namespace": namespace}, json=body)
        assert_refused(response, "privileged-kind",
                       f"developer '{who}' may not write Team entities: {PRIVILEGED}")
        me = client.get("/api/v1/auth/me").json()
    assert state_of(portal, path) == before
    assert name not in me["teams"] or who == "wp-dana"
    members = yaml.safe_load(path.read_text())["spec"]["members"]
    assert [m["name"] for m in members] == TEAMS[(namespace, name)]


@pytest.mark.parametrize("kind", ["Team", "Action"])
def test_developer_cannot_create_or_delete_team_or_action_entities(crew: Crew, kind: str) -> None:
    portal = crew.portal
    document = (team("default", "wp-new-team", ["wp-eve"]) if kind == "Team" else
                action("wp-new-action", {"operation": "delete",
                                         "target": {"kind": "Service", "name": "wp-red-svc"}},
                       {"allowedRoles": ["developer"]}))
    path = path_of(portal, kind, document["metadata"]["name"])
    before = state_of(portal, path)
    with crew.client("wp-dana") as client:
        created = client.post("/api/v1/entities", json=document)
        assert_refused(created, "privileged-kind", PRIVILEGED)
        existing = "wp-blue" if kind == "Team" else "wp-guarded"
        deleted = client.delete(f"/api/v1/entities/{kind.upper()}/{existing}")
        assert_refused(deleted, "privileged-kind", PRIVILEGED)
    assert state_of(portal, path) == before and not path.exists()


# --- Action entities: permissions are not writable by developers -----------------------------

@pytest.mark.parametrize("change", [
    lambda p: p["allowedRoles"].append("developer"),
    lambda p: p.update(requireApproval=False),
    lambda p: p.pop("requireApproval"),
    lambda p: p["allowedTeams"].append("wp-red"),
    lambda p: p.update(approvers=["wp-dana"]),
    lambda p: p.clear(),
])
@pytest.mark.parametrize("url_kind", ["action", "ACTION"])
def test_developer_editing_an_actions_permissions_is_refused(crew: Crew, change,
                                                             url_kind: str) -> None:
    # wp-dana is a member of wp-blue, the owner of the action: still refused
    portal = crew.portal
    path = path_of(portal, "Action", "wp-guarded")
    before = state_of(portal, path)
    with crew.client("wp-dana") as client:
        body = client.get("/api/v1/entities/action/wp-guarded").json()
        change(body["spec"]["permissions"])
        response = client.put(f"/api/v1/entities/{url_kind}/wp-guarded", json=body)
    assert_refused(response, "privileged-kind",
                   f"developer 'wp-dana' may not write Action entities: {PRIVILEGED}")
    assert state_of(portal, path) == before


def test_an_example_action_owned_by_the_developers_own_team_stays_closed(crew: Crew) -> None:
    # the portal's `developer` is a member of platform-team, which owns deploy-service
    portal = crew.portal
    path = portal.catalog / "Action" / "default" / "deploy-service.yaml"
    before = state_of(portal, path)
    with portal.client("developer") as client:
        body = client.get("/api/v1/entities/action/deploy-service").json()
        body["spec"]["permissions"]["allowedRoles"] = ["viewer"]
        response = client.put("/api/v1/entities/action/deploy-service", json=body)
    assert_refused(response, "privileged-kind", PRIVILEGED)
    assert state_of(portal, path) == before


# --- other kinds: ownership --------------------------------------------------------------------

@pytest.mark.parametrize("namespace, owner", [("default", "wp-blue"), ("ops", "wp-night"),
                                              ("ops", "default/wp-blue")])
def test_developer_writes_the_entities_of_their_own_team(crew: Crew, namespace: str,
                                                         owner: str) -> None:
    portal = crew.portal
    name = f"wp-mine-{namespace}-{owner.replace('/', '-')}"
    with crew.client("wp-dana") as client:
        created = client.post("/api/v1/entities", json=service(name, owner, namespace))
        assert created.status_code == 201, created.text
        body = created.json()
        body["metadata"]["description"] = "changed by a member"
        updated = client.put(f"/api/v1/entities/SERVICE/{name}", params={"namespace": namespace},
                             json=body)
        assert updated.status_code == 200, updated.text
        assert portal.git("log", "-1", "--format=%an").strip() == "wp-dana"
        deleted = client.delete(f"/api/v1/entities/Service/{name}",
                                params={"namespace": namespace})
        assert deleted.status_code == 204, deleted.text
    assert not path_of(portal, "Service", name, namespace).exists()


@pytest.mark.parametrize("name, namespace, team_label", [
    ("wp-red-svc", "default", "default/wp-red"),
    # `wp-blue` written in namespace ops is ops/wp-blue (wp-frank's), not wp-dana's team
    ("wp-ops-svc", "ops", "ops/wp-blue"),
])
def test_developer_is_refused_the_entities_of_another_team(crew: Crew, name: str,
                                                           namespace: str,
                                                           team_label: str) -> None:
    portal = crew.portal
    path = path_of(portal, "Service", name, namespace)
    before = state_of(portal, path)
    reason = f"team '{team_label}', does not list wp-dana in spec.members"
    with crew.client("wp-dana") as client:
        body = client.get(f"/api/v1/entities/service/{name}",
                          params={"namespace": namespace}).json()
        body["metadata"]["description"] = "not yours"
        updated = client.put(f"/api/v1/entities/Service/{name}",
                             params={"namespace": namespace}, json=body)
        assert_refused(updated, "owner-membership", reason, OWNERSHIP)
        deleted = client.delete(f"/api/v1/entities/service/{name}",
                                params={"namespace": namespace})
        assert_refused(deleted, "owner-membership", reason)
        owner = body["metadata"]["owner"]
        created = client.post("/api/v1/entities",
                              json=service(f"{name}-copy", owner, namespace))
        assert_refused(created, "owner-membership", reason)
    assert state_of(portal, path) == before
    assert not path_of(portal, "Service", f"{name}-copy", namespace).exists()


def test_moving_an_entity_between_teams_needs_both(crew: Crew) -> None:
    portal = crew.portal
    mine, theirs = (path_of(portal, "Service", "wp-blue-svc"),
                    path_of(portal, "Service", "wp-red-svc"))
    before = state_of(portal, mine), state_of(portal, theirs)
    with crew.client("wp-dana") as client:
        body = client.get("/api/v1/entities/service/wp-blue-svc").json()
        body["metadata"]["owner"] = "wp-red"
        away = client.put("/api/v1/entities/service/wp-blue-svc", json=body)
        assert_refused(away, "owner-membership", "its new owner, team 'default/wp-red'")
        body = client.get("/api/v1/entities/service/wp-red-svc").json()
        body["metadata"]["owner"] = "wp-blue"
        taken = client.put("/api/v1/entities/service/wp-red-svc", json=body)
        assert_refused(taken, "owner-membership", "its current owner, team 'default/wp-red'")
    assert (state_of(portal, mine), state_of(portal, theirs)) == before


def test_an_entity_with_no_owner_is_open_to_any_developer(crew: Crew) -> None:
    portal = crew.portal
    with crew.client("wp-eve") as client:
        created = client.post("/api/v1/entities", json=service("wp-unowned", None, "ops"))
        assert created.status_code == 201, created.text
        body = created.json()
        body["metadata"]["description"] = "anyone"
        assert client.put("/api/v1/entities/service/wp-unowned", params={"namespace": "ops"},
                          json=body).status_code == 200
        body["metadata"]["owner"] = "wp-red"  # giving it to a team eve is not in: no
        claimed = client.put("/api/v1/entities/service/wp-unowned",
                             params={"namespace": "ops"}, json=body)
        assert_refused(claimed, "owner-membership", "its new owner")
        assert client.delete("/api/v1/entities/service/wp-unowned",
                             params={"namespace": "ops"}).status_code == 204
    assert not path_of(portal, "Service", "wp-unowned", "ops").exists()


def test_viewer_writes_nothing(crew: Crew) -> None:
    portal = crew.portal
    path = path_of(portal, "Service", "wp-blue-svc")
    before = state_of(portal, path)
    with portal.client("viewer") as client:
        body = client.get("/api/v1/entities/service/wp-blue-svc").json()
        for response in (client.post("/api/v1/entities", json=service("wp-by-viewer", None)),
                         client.put("/api/v1/entities/service/wp-blue-svc", json=body),
                         client.delete("/api/v1/entities/service/wp-blue-svc")):
            assert response.status_code == 403, response.text
            assert "developer" in response.json()["error"]
    assert state_of(portal, path) == before


def test_platform_engineers_write_teams_and_actions(crew: Crew) -> None:
    portal = crew.portal
    with portal.client("platform-engineer") as client:
        created = client.post("/api/v1/entities", json=team("ops", "wp-temp", ["wp-eve"]))
        assert created.status_code == 201, created.text
        body = created.json()
        body["spec"]["members"].append({"name": "wp-frank"})
        assert client.put("/api/v1/entities/TEAM/wp-temp", params={"namespace": "ops"},
                          json=body).status_code == 200
        assert client.delete("/api/v1/entities/team/wp-temp",
                             params={"namespace": "ops"}).status_code == 204
        body = client.get("/api/v1/entities/action/wp-describe").json()
        body["spec"]["permissions"]["allowedRoles"] = ["developer", "platform-engineer"]
        assert client.put("/api/v1/entities/Action/wp-describe", json=body).status_code == 200
    assert portal.git("log", "-1", "--format=%an %s").strip() == \
        "platformengineer Update Action default/wp-describe"


# --- the internal executor writes with its requester's rights ----------------------------------

def run_action(crew: Crew, who: str, name: str, inputs: dict | None = None) -> dict:
    with crew.client(who) as client:
        response = client.post(f"/api/v1/actions/{name}/execute", json={"inputs": inputs or {}})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_developers_internal_run_cannot_write_a_team(crew: Crew) -> None:
    portal = crew.portal
    path = path_of(portal, "Team", "wp-red")
    before = state_of(portal, path)
    run = run_action(crew, "wp-frank", "wp-relabel-team")  # frank is even a member of wp-red
    done = wait_for_run(crew, "wp-relabel-team", run["id"])
    assert done["status"] == "failed"
    assert "developer 'wp-frank' may not write Team entities" in done["error"]
    assert PRIVILEGED in done["error"]
    assert state_of(portal, path) == before

    run = run_action(crew, "platform-engineer", "wp-relabel-team")
    done = wait_for_run(crew, "wp-relabel-team", run["id"])
    assert done["status"] == "success", done["error"]
    labels = yaml.safe_load(path.read_text())["metadata"]["labels"]
    assert labels == {"reviewed-by": "platformengineer"}
    assert portal.git("log", "-1", "--format=%an", done["outputs"]["commit"]).strip() == \
        "platformengineer"


def test_an_internal_run_writes_only_what_its_requester_may(crew: Crew) -> None:
    portal = crew.portal
    path = path_of(portal, "Service", "wp-red-svc")
    before = state_of(portal, path)
    refused = run_action(crew, "wp-dana", "wp-describe", {"service": "wp-red-svc"})
    done = wait_for_run(crew, "wp-describe", refused["id"])
    assert done["status"] == "failed"
    assert "does not list wp-dana in spec.members" in done["error"]
    assert state_of(portal, path) == before

    allowed = run_action(crew, "wp-frank", "wp-describe", {"service": "wp-red-svc"})
    done = wait_for_run(crew, "wp-describe", allowed["id"])
    assert done["status"] == "success", done["error"]
    assert yaml.safe_load(path.read_text())["metadata"]["description"] == \
        "described by wp-frank"


# --- the escalations of the review, end to end --------------------------------------------------

def test_joining_the_approver_team_is_refused_so_approval_stays_with_its_members(
        crew: Crew) -> None:
    portal = crew.portal
    run = run_action(crew, "wp-dana", "wp-gated")
    assert run["status"] == "pending"
    path = path_of(portal, "Team", "wp-approvers")
    before = state_of(portal, path)
    with crew.client("wp-eve") as client:
        body = client.get("/api/v1/entities/team/wp-approvers").json()
        body["spec"]["members"].append({"name": "wp-eve", "role": "approver"})
        joined = client.put("/api/v1/entities/team/wp-approvers", json=body)
        assert_refused(joined, "privileged-kind", PRIVILEGED)
        approved = client.post(f"/api/v1/actions/wp-gated/runs/{run['id']}/approve", json={})
        assert approved.status_code == 403
        assert "not an approver" in approved.json()["error"]
    assert state_of(portal, path) == before
    assert wait_for_run(crew, "wp-gated", run["id"], ("pending",))["status"] == "pending"

    with crew.client("wp-grace") as client:  # a real member of wp-approvers
        approved = client.post(f"/api/v1/actions/wp-gated/runs/{run['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    done = wait_for_run(crew, "wp-gated", run["id"])
    assert done["status"] == "success", done["error"]


def test_joining_an_allowed_team_is_refused_so_the_action_stays_closed(crew: Crew) -> None:
    with crew.client("wp-eve") as client:
        assert client.post("/api/v1/actions/wp-guarded/execute", json={}).status_code == 403
        body = client.get("/api/v1/entities/team/wp-blue").json()
        body["spec"]["members"].append({"name": "wp-eve"})
        assert_refused(client.put("/api/v1/entities/team/wp-blue", json=body),
                       "privileged-kind", PRIVILEGED)
        still = client.post("/api/v1/actions/wp-guarded/execute", json={})
        assert still.status_code == 403 and "membership of wp-blue" in still.json()["error"]
    with crew.client("wp-dana") as client:  # a member of wp-blue may run it
        assert client.post("/api/v1/actions/wp-guarded/execute", json={}).status_code == 201


# --- the other write paths -----------------------------------------------------------------------

@pytest.mark.parametrize("who", ["developer", "platform-engineer"])
def test_the_dashboard_stays_admin_only(crew: Crew, who: str) -> None:
    portal = crew.portal
    path = portal.repo / "gantry.yaml"
    before = state_of(portal, path)
    with portal.client(who) as client:
        response = client.put("/api/v1/dashboard/config",
                              json={"announcements": [{"title": "mine now"}]})
    assert response.status_code == 403
    assert "admin" in response.json()["error"]
    assert state_of(portal, path) == before


@pytest.mark.parametrize("who", ["viewer", "developer", "wp-dana"])
def test_argocd_discovery_writes_are_started_by_platform_engineers_only(crew: Crew,
                                                                        who: str) -> None:
    portal = crew.portal
    head = portal.head()
    with crew.client(who) as client:
        response = client.post("/api/v1/plugins/argocd/sync")
    assert response.status_code == 403
    assert "platform-engineer" in response.json()["error"]
    with portal.client("platform-engineer") as client:  # reaches the plugin (unconfigured)
        assert client.post("/api/v1/plugins/argocd/sync").status_code != 403
    assert portal.head() == head


def test_an_entity_kept_in_gantry_yaml_is_written_by_admins_only(tmp_path: Path) -> None:
    """With the catalog at the repository's top, gantry.yaml is read as a catalog file too;
    an entity document in it is still the dashboard's file, so the dashboard rule applies."""
    repo = tmp_path / "repo"
    (repo / "Team" / "default").mkdir(parents=True)
    (repo / "Team" / "default" / "solo.yaml").write_text(
        "apiVersion: gantry.io/v1\nkind: Team\nmetadata:\n  name: solo\n"
        "spec:\n  members:\n    - name: wp-dev\n")
    (repo / "gantry.yaml").write_text(
        "apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: in-config\n"
        "spec:\n  type: backend\n  lifecycle: development\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Seed")
    with RunnerProcess(repo, tmp_path / "data") as runner:
        developer = runner.create_user("wp-dev", "developer")
        head = git(repo, "rev-parse", "HEAD")
        text = (repo / "gantry.yaml").read_bytes()
        with runner.client(developer) as client:
            body = client.get("/api/v1/entities/service/in-config").json()
            body["metadata"]["description"] = "through the entity API"
            refused = client.put("/api/v1/entities/service/in-config", json=body)
            assert_refused(refused, "dashboard-admin-only", "gantry.yaml (the dashboard)")
            deleted = client.delete("/api/v1/entities/service/in-config")
            assert_refused(deleted, "dashboard-admin-only")
            other = client.post("/api/v1/entities", json=service("elsewhere", "solo"))
            assert other.status_code == 201, other.text  # the same developer, another file
        assert (repo / "gantry.yaml").read_bytes() == text
        assert git(repo, "log", "--format=%s", f"{head.strip()}..HEAD").strip() == \
            "Create Service default/elsewhere"
        with runner.client() as client:
            assert client.put("/api/v1/entities/service/in-config", json=body).status_code == 200
