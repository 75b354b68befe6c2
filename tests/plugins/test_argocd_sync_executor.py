"""The argocd-sync executor against the fake ArgoCD, step by step and through the runner."""

from __future__ import annotations

import time

import httpx
import pytest

from runner.actions.executors.argocd_sync import EXECUTOR
from runner.actions.executors.base import Done, Failed, Wait
from tests.actions.drive import drive, make_context
from tests.plugins.fakes.argocd import FakeArgoCD
from tests.support.runner_process import RunnerProcess, make_catalog_repo


@pytest.fixture
def argo():
    with FakeArgoCD(running_reads=1) as fake:
        fake.add_app("order-service", repo_url="https://github.com/acme/order-service")
        fake.add_app("broken", fail_sync=True)
        yield fake


def plugin(argo: FakeArgoCD, token: str):
    settings = {"instances": [
        {"name": "production", "argocdUrl": argo.url, "token": token},
        {"name": "other", "argocdUrl": "http://127.0.0.1:9", "token": "unused-token"}]}
    return lambda name: settings if name == "argocd" else {}


def test_sync_waits_until_succeeded(argo):
    token = argo.issue_token()
    ctx = make_context({"appName": "order-service", "prune": True},
                       plugin_config=plugin(argo, token))
    final, waits = drive(EXECUTOR, ctx)
    assert isinstance(final, Done), final
    assert final.outputs["phase"] == "Succeeded"
    assert final.outputs["instance"] == "production"  # the first instance by default
    assert len(waits) >= 2  # followed the Running phase through Wait steps
    assert argo.apps["order-service"].syncs[-1]["prune"] is True
    assert token in ctx.secrets and token not in str(final.outputs)


def test_failed_operation_fails_the_run(argo):
    ctx = make_context({"appName": "broken", "hard": True},
                       plugin_config=plugin(argo, argo.issue_token()))
    final, _ = drive(EXECUTOR, ctx)
    assert isinstance(final, Failed)
    assert "ended Failed" in final.error and "failed to apply" in final.error
    assert argo.apps["broken"].syncs[-1]["strategy"] == {"hook": {"force": True}}


def test_no_wait_returns_after_starting(argo):
    ctx = make_context({"appName": "order-service", "wait": False},
                       plugin_config=plugin(argo, argo.issue_token()))
    step = EXECUTOR.start(ctx)
    assert isinstance(step, Done) and step.outputs["phase"] == "Running"


def test_argocd_errors_are_clear(argo):
    missing = EXECUTOR.start(make_context({"appName": "nope"},
                                          plugin_config=plugin(argo, argo.issue_token())))
    assert isinstance(missing, Failed) and "permission denied" in missing.error
    bad_token = EXECUTOR.start(make_context({"appName": "order-service"},
                                            plugin_config=plugin(argo, "wrong-token")))
    assert isinstance(bad_token, Failed) and "token" in bad_token.error
    unknown = EXECUTOR.start(make_context({"appName": "order-service", "instance": "mars"},
                                          plugin_config=plugin(argo, "t-1234")))
    assert isinstance(unknown, Failed) and "unknown ArgoCD instance 'mars'" in unknown.error
    unconfigured = EXECUTOR.start(make_context({"appName": "order-service"}))
    assert isinstance(unconfigured, Failed) and "argocd plugin" in unconfigured.error
    assert EXECUTOR.validate_config({"wait": "yes"}) == [
        "config.appName is required: the ArgoCD application to sync",
        "config.wait must be true or false"]


def test_resume_follows_without_syncing_again(argo):
    ctx = make_context({"appName": "order-service"}, plugin_config=plugin(argo, argo.issue_token()))
    assert isinstance(EXECUTOR.start(ctx), Wait)
    step = EXECUTOR.resume(ctx)  # as after a restart, with the persisted state
    while isinstance(step, Wait):
        step = EXECUTOR.poll(ctx)
    assert isinstance(step, Done)
    assert len(argo.apps["order-service"].syncs) == 1


def test_action_run_through_the_runner(tmp_path, argo):
    repo = make_catalog_repo(tmp_path / "repo")
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner, runner.client() as client:
        client.put("/api/v1/plugins/argocd/config", json={"instances": [
            {"name": "production", "argocdUrl": argo.url, "token": argo.issue_token()}]})
        client.put("/api/v1/plugins/argocd/enable", json={"enabled": True})
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
        assert argo.apps["order-service"].syncs
        assert "argo-" not in httpx.get(runner.url(f"/api/v1/actions/sync-order-service/runs/"
                                                   f"{run_id}"), headers=runner.auth()).text
