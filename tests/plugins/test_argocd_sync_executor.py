"""The argocd-sync executor against the fake ArgoCD, step by step and through the runner."""

from __future__ import annotations

import pytest

from runner.actions.executors.argocd_sync import EXECUTOR
from runner.actions.executors.base import Done, Failed, Wait
from tests.actions.drive import drive, make_context
from tests.plugins.fakes.argocd import FakeArgoCD


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
        "spec.config.wait: expected true or false, got the string 'yes'",
        "spec.config: missing required key 'appName'"]


def test_resume_follows_without_syncing_again(argo):
    ctx = make_context({"appName": "order-service"}, plugin_config=plugin(argo, argo.issue_token()))
    assert isinstance(EXECUTOR.start(ctx), Wait)
    step = EXECUTOR.resume(ctx)  # as after a restart, with the persisted state
    while isinstance(step, Wait):
        step = EXECUTOR.poll(ctx)
    assert isinstance(step, Done)
    assert len(argo.apps["order-service"].syncs) == 1
