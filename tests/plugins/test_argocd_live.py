"""The ArgoCD plugin in a real `gantry serve`: live endpoints, errors, discovery commits."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from tests.plugins.fakes.argocd import FakeArgoCD
from tests.support.runner_process import RunnerProcess, git, make_catalog_repo

pytestmark = pytest.mark.xdist_group("plugins-argocd-live")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("argocd-live")
    repo = make_catalog_repo(base / "repo")
    with FakeArgoCD(running_reads=2) as production, \
            FakeArgoCD(username="gantry", password="pw-staging-1") as staging:
        production.add_app("payment-api", repo_url="https://github.com/acme/payment-api",
                           dest_namespace="production", labels={"app": "payment-api"},
                           resources=[{"group": "apps", "version": "v1", "kind": "Deployment",
                                       "namespace": "production", "name": "payment-api",
                                       "status": "Synced", "health": {"status": "Healthy"}},
                                      {"group": "", "version": "v1", "kind": "Service",
                                       "namespace": "production", "name": "payment-api",
                                       "status": "Synced"}])
        production.add_app("order-service", repo_url="https://github.com/acme/order-service",
                           dest_namespace="production", labels={"app": "order-service"})
        production.add_app("inventory", repo_url="https://github.com/acme/inventory",
                           dest_namespace="production", labels={"app": "inventory"},
                           sync_status="OutOfSync", fail_sync=True)
        staging.add_app("payment-api-staging", repo_url="https://github.com/acme/payment-api",
                        dest_namespace="staging", labels={"app": "payment-api"})
        with RunnerProcess(repo / "catalog", base / "data") as runner:
            runner.tokens = {role: runner.create_user(f"u-{role}", role)
                             for role in ("viewer", "developer")}
            config = {"instances": [
                {"name": "production", "argocdUrl": production.url,
                 "token": production.issue_token()},
                {"name": "staging", "argocdUrl": staging.url, "username": "gantry",
                 "password": "pw-staging-1"}], "labelKey": "app"}
            with runner.client() as client:
                assert client.put("/api/v1/plugins/argocd/config", json=config).status_code == 200
                assert client.put("/api/v1/plugins/argocd/enable",
                                  json={"enabled": True}).status_code == 200
            yield runner, production, staging, repo


def test_app_detail_with_managed_resources(setup):
    runner, production, _staging, _repo = setup
    response = httpx.get(runner.url("/api/v1/plugins/argocd/apps/payment-api"),
                         headers=runner.auth(runner.tokens["viewer"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["instance"] == "production"
    assert body["syncStatus"] == "Synced" and body["healthStatus"] == "Healthy"
    kinds = sorted(r["kind"] for r in body["resources"])
    assert kinds == ["Deployment", "Service"]
    assert body["resources"][0]["health"] in ("Healthy", "")


def test_app_found_on_second_instance_and_by_instance_prefix(setup):
    runner, _production, staging, _repo = setup
    plain = httpx.get(runner.url("/api/v1/plugins/argocd/apps/payment-api-staging"),
                      headers=runner.auth())
    assert plain.status_code == 200 and plain.json()["instance"] == "staging"
    prefixed = httpx.get(runner.url("/api/v1/plugins/argocd/apps/staging:payment-api-staging"),
                         headers=runner.auth())
    assert prefixed.status_code == 200
    assert staging.logins >= 1  # username/password went through /api/v1/session


def test_missing_app_passes_argocd_permission_denied(setup):
    runner, *_ = setup
    response = httpx.get(runner.url("/api/v1/plugins/argocd/apps/production:no-such-app"),
                         headers=runner.auth())
    assert response.status_code == 403
    body = response.json()
    assert "permission denied" in body["error"] and body["argocdCode"] == 7


def test_sync_needs_developer_and_hard_sync_forces(setup):
    runner, production, *_ = setup
    url = runner.url("/api/v1/plugins/argocd/apps/payment-api/sync")
    assert httpx.post(url, headers=runner.auth(runner.tokens["viewer"])).status_code == 403
    response = httpx.post(url, json={"hard": True},
                          headers=runner.auth(runner.tokens["developer"]))
    assert response.status_code == 200, response.text
    assert response.json()["operationState"]["phase"] == "Running"
    sent = production.apps["payment-api"].syncs[-1]
    assert sent["prune"] is True and sent["strategy"] == {"hook": {"force": True}}

    # a second sync while the first runs: ArgoCD's FailedPrecondition, passed on
    busy = httpx.post(url, headers=runner.auth(runner.tokens["developer"]))
    assert busy.status_code == 400
    assert "another operation is already in progress" in busy.json()["error"]
    assert busy.json()["argocdCode"] == 9

    # the operation progresses to its end as ArgoCD reports it
    for _ in range(5):
        detail = httpx.get(runner.url("/api/v1/plugins/argocd/apps/payment-api"),
                           headers=runner.auth()).json()
        if detail["operationState"]["phase"] != "Running":
            break
    assert detail["operationState"]["phase"] == "Succeeded"


def test_refresh_asks_for_normal_refresh(setup):
    runner, production, *_ = setup
    response = httpx.post(runner.url("/api/v1/plugins/argocd/apps/inventory/refresh"),
                          headers=runner.auth(runner.tokens["developer"]))
    assert response.status_code == 200, response.text
    assert production.apps["inventory"].refreshes[-1] == "normal"
    assert response.json()["syncStatus"] == "OutOfSync"


def test_entity_apps_lists_each_app_with_errors_inline(setup):
    runner, *_ = setup
    response = httpx.get(runner.url("/api/v1/plugins/argocd/entity-apps"),
                         params={"appNames": "production:payment-api,staging:payment-api-staging,"
                                             "production:ghost"},
                         headers=runner.auth(runner.tokens["viewer"]))
    assert response.status_code == 200, response.text
    apps = response.json()
    assert [a["name"] for a in apps] == ["payment-api", "payment-api-staging", "ghost"]
    assert apps[1]["instance"] == "staging" and apps[1]["syncStatus"] == "Synced"
    assert apps[2]["status"] == 403 and "permission denied" in apps[2]["error"]
    bad = httpx.get(runner.url("/api/v1/plugins/argocd/entity-apps"), headers=runner.auth())
    assert bad.status_code == 400


def test_expired_session_logs_in_again(setup):
    runner, _production, staging, _repo = setup
    before = staging.logins
    staging.expire_tokens()
    response = httpx.get(runner.url("/api/v1/plugins/argocd/apps/staging:payment-api-staging"),
                         headers=runner.auth())
    assert response.status_code == 200, response.text
    assert staging.logins == before + 1


def test_sync_trigger_discovers_and_commits_once(setup):
    runner, _production, _staging, repo = setup
    before = git(repo, "rev-parse", "HEAD").strip()
    response = httpx.post(runner.url("/api/v1/plugins/argocd/sync"), headers=runner.auth(),
                          timeout=60)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["created"] == ["inventory"]
    assert result["updated"] == ["order-service", "payment-api"]
    assert git(repo, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert git(repo, "log", "-1", "--format=%an").strip() == "admin"
    data = yaml.safe_load((repo / "catalog/Service/default/inventory.yaml").read_text())
    assert data["metadata"]["annotations"]["argocd.io/appName"] == "inventory"

    # the runner's index knows the new Service right away
    entity = httpx.get(runner.url("/api/v1/entities/service/inventory"), headers=runner.auth())
    assert entity.status_code == 200, entity.text
    assert entity.json()["metadata"]["annotations"]["argocd.io/apps"] == "production:inventory"
    again = httpx.post(runner.url("/api/v1/plugins/argocd/sync"), headers=runner.auth(),
                       timeout=60)
    assert again.json()["commit"] is None


def test_argocd_sync_action_runs_through_the_runner(setup):
    """The catalog's sync-order-service action (type argocd-sync) end to end."""
    runner, production, *_ = setup
    with runner.client() as client:
        started = client.post("/api/v1/actions/sync-order-service/execute",
                              json={"inputs": {"reason": "test"}})
        assert started.status_code in (200, 201, 202), started.text
        run_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = client.get(f"/api/v1/actions/sync-order-service/runs/{run_id}").json()
            if run["status"] not in ("pending", "running", "queued"):
                break
            time.sleep(0.3)
    assert run["status"] == "success", run
    assert len(production.apps["order-service"].syncs) == 1
    assert "argo-" not in str(run)  # the ArgoCD token never shows on a run


def commits_since(repo, commit: str) -> int:
    return int(git(repo, "rev-list", "--count", f"{commit}..HEAD").strip())


def list_requests(argo: FakeArgoCD) -> int:
    with argo.lock:
        return sum(1 for r in argo.requests
                   if r["method"] == "GET" and r["path"] == "/api/v1/applications")


def wait_for(condition, what: str, runner: RunnerProcess, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}:\n{runner.log()[-2000:]}"
        time.sleep(0.05)


@pytest.fixture
def own_runner(tmp_path):
    """A runner of its own: the test replaces the whole argocd configuration."""
    repo = make_catalog_repo(tmp_path / "repo")
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner:
        yield runner, repo


def test_unreachable_instance_then_background_discovery(own_runner):
    runner, repo = own_runner
    with FakeArgoCD() as gone:
        url = gone.url
    with runner.client() as client:
        assert client.put("/api/v1/plugins/argocd/config", json={"instances": [
            {"name": "lost", "argocdUrl": url, "token": "t-1234"}]}).status_code == 200
        assert client.put("/api/v1/plugins/argocd/enable",
                          json={"enabled": True}).status_code == 200
        started = time.monotonic()
        response = client.get("/api/v1/plugins/argocd/apps/x")
        assert response.status_code == 502
        assert "cannot reach ArgoCD lost" in response.json()["error"]
        assert time.monotonic() - started < 20
        client.put("/api/v1/plugins/argocd/enable", json={"enabled": False})
        disabled = client.get("/api/v1/plugins/argocd/apps/x")
        assert disabled.status_code == 409 and "disabled" in disabled.json()["error"]

        # syncInterval: discovery runs in the background and commits on the runner's branch
        with FakeArgoCD() as argo:
            argo.add_app("ledger", repo_url="https://github.com/acme/ledger")
            before = git(repo, "rev-parse", "HEAD").strip()
            saved = client.put("/api/v1/plugins/argocd/config", json={
                "instances": [{"name": "main", "argocdUrl": argo.url,
                               "token": argo.issue_token()}], "syncInterval": "1s"})
            assert saved.status_code == 200, saved.text
            assert client.put("/api/v1/plugins/argocd/enable",
                              json={"enabled": True}).status_code == 200
            target = repo / "catalog/Service/default/ledger.yaml"
            wait_for(lambda: commits_since(repo, before) >= 1,
                     "background discovery never committed", runner)
            assert target.exists()
            assert commits_since(repo, before) == 1
            assert git(repo, "log", "-1", "--format=%an").strip() == "Gantry"
            # later ticks find nothing new: once ArgoCD has been listed twice more, at
            # least one whole tick ran after the commit, and it committed nothing
            seen = list_requests(argo)
            wait_for(lambda: list_requests(argo) >= seen + 2,
                     "background discovery stopped ticking", runner)
            assert commits_since(repo, before) == 1
