"""Names from a request never rewrite the path of a call to ArgoCD: an application name must
be one ArgoCD could hold (a DNS-1123 subdomain), else 400 and ArgoCD receives nothing."""

from __future__ import annotations

import http.client
import json

import pytest

from runner.actions.executors.argocd_sync import EXECUTOR
from runner.actions.executors.base import Done, Failed
from runner.plugins.argocd.client import ArgoCDClient, InvalidName, app_path
from runner.plugins.argocd.config import Instance
from tests.actions.drive import make_context
from tests.plugins.fakes.argocd import FakeArgoCD
from tests.support.runner_process import RunnerProcess, make_catalog_repo

pytestmark = pytest.mark.xdist_group("plugins-trust-argocd-names")

LONG_VALID = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters
# Raw path segments as a client may send them (nothing decoded or normalised on the way).
BAD_SEGMENTS = [
    "..", ".", "%2e%2e", "%2E%2E", "%2e", ".%2e", "%2e.", "a/b", "a%2Fb", "a%2fb", "%2F",
    "..%2F..", "%2e%2e%2Fapi%2Fv1", "..%2Fsession", "Payment-API", "UPPER", "a_b", "-lead",
    "trail-", "dot.", ".dot", "a..b", "a%20b", "%252e%252e", "x" * 254, LONG_VALID + "e",
    "production:..", "production:%2e%2e", "production:a%2Fb", "caf%C3%A9", "a%3Fb",
]


def raw(runner: RunnerProcess, method: str, path: str, body: dict | None = None):
    """Send `path` byte for byte (httpx would normalise `.` and `..` segments away)."""
    connection = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {runner.dev_token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("trust-argocd-names")
    repo = make_catalog_repo(base / "repo")
    with FakeArgoCD() as argo, RunnerProcess(repo / "catalog", base / "data") as runner:
        argo.add_app("payment-api")
        config = {"instances": [{"name": "production", "argocdUrl": argo.url,
                                 "token": argo.issue_token()}]}
        with runner.client() as client:
            assert client.put("/api/v1/plugins/argocd/config", json=config).status_code == 200
            assert client.put("/api/v1/plugins/argocd/enable",
                              json={"enabled": True}).status_code == 200
        runner.dev_token = runner.create_user("dev-person", "developer")
        yield runner, argo


@pytest.fixture
def fresh(setup):
    runner, argo = setup
    with argo.lock:
        argo.requests.clear()
    return runner, argo


@pytest.mark.parametrize("segment", BAD_SEGMENTS)
def test_bad_app_names_are_refused_before_argocd_is_called(fresh, segment):
    runner, argo = fresh
    base = "/api/v1/plugins/argocd/apps/"
    calls = [("GET", base + segment, None), ("GET", base + segment + "?instance=production", None),
             ("POST", base + segment + "/sync", {"prune": True}),
             ("POST", base + segment + "/refresh", {})]
    for method, path, body in calls:
        status, text = raw(runner, method, path, body)
        assert status == 400, (method, path, status, text)
        assert "application name" in json.loads(text)["error"], text
    assert argo.requests == []


@pytest.mark.parametrize("names", ["production:..", "production:payment-api,production:a%2Fb",
                                   "production:UPPER", ".", "production:" + "x" * 254])
def test_entity_apps_refuses_bad_names_before_any_call(fresh, names):
    runner, argo = fresh
    status, text = raw(runner, "GET", f"/api/v1/plugins/argocd/entity-apps?appNames={names}")
    assert status == 400, text
    assert "appNames[" in json.loads(text)["error"]
    assert argo.requests == []


def test_valid_names_still_reach_argocd_percent_encoded(fresh):
    runner, argo = fresh
    status, text = raw(runner, "GET", "/api/v1/plugins/argocd/apps/payment-api")
    assert status == 200, text
    status, _text = raw(runner, "GET", f"/api/v1/plugins/argocd/apps/production:{LONG_VALID}")
    assert status == 403  # ArgoCD's own answer for an application it does not know
    paths = [r["path"] for r in argo.requests]
    assert paths == ["/api/v1/applications/payment-api", f"/api/v1/applications/{LONG_VALID}"]


# --- the client and the argocd-sync executor -------------------------------------------------

@pytest.fixture
def argo():
    with FakeArgoCD() as fake:
        fake.add_app("order-service")
        yield fake


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../session", "%2e%2e", "Order-Service",
                                  "a" * 254, "", "sync/../..", "a\nb"])
def test_client_refuses_bad_names_without_a_request(argo, name):
    with ArgoCDClient(Instance("production", argo.url, token=argo.issue_token())) as client:
        for call in (client.get_application, client.resource_tree, client.sync, client.refresh):
            with pytest.raises(InvalidName):
                call(name)
    assert argo.requests == []


def test_app_path_percent_encodes_and_checks():
    assert app_path("order-service", "sync") == "/api/v1/applications/order-service/sync"
    with pytest.raises(InvalidName):
        app_path("..", "sync")


def settings_for(argo: FakeArgoCD, token: str):
    config = {"instances": [{"name": "production", "argocdUrl": argo.url, "token": token}]}
    return lambda name: config if name == "argocd" else {}


@pytest.mark.parametrize("name", ["..", "a/b", "..%2F..", "Order-Service", "x" * 254])
def test_argocd_sync_action_refuses_bad_names(argo, name):
    assert any("config.appName" in p for p in EXECUTOR.validate_config({"appName": name}))
    ctx = make_context({"appName": name}, plugin_config=settings_for(argo, argo.issue_token()))
    step = EXECUTOR.start(ctx)
    assert isinstance(step, Failed) and "config.appName" in step.error
    # a run stored before the check, resumed after a restart, is refused the same way
    resumed = make_context({"appName": "order-service"},
                           plugin_config=settings_for(argo, argo.issue_token()),
                           state={"instance": "production", "appName": name, "since": 0})
    assert isinstance(EXECUTOR.resume(resumed), Failed)
    assert argo.requests == []


def test_argocd_sync_action_with_a_valid_name_runs(argo):
    ctx = make_context({"appName": "order-service", "wait": False},
                       plugin_config=settings_for(argo, argo.issue_token()))
    assert isinstance(EXECUTOR.start(ctx), Done)
    assert [r["path"] for r in argo.requests] == ["/api/v1/applications/order-service/sync"]
