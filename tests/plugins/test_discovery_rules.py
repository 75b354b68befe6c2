"""Discovery rules on plain Application documents (as the fake ArgoCD serves them)."""

from __future__ import annotations

from runner.plugins.argocd.discovery import (
    DiscoveredApp,
    ExistingEntity,
    group_apps,
    merge,
    plan,
    service_name,
)
from tests.plugins.fakes.argocd import FakeApp


def found(instance: str, name: str, **fields) -> DiscoveredApp:
    return DiscoveredApp(instance, FakeApp(name=name, **fields).document("argocd"))


def test_names_are_made_valid():
    assert service_name("Payment_API.v2") == "payment-api-v2"
    assert service_name("---") == ""
    assert len(service_name("x" * 100)) == 63


def test_grouping_by_label_falls_back_to_the_app_name():
    apps = [found("prod", "pay-prod", labels={"team-app": "payments"}),
            found("stg", "pay-stg", labels={"team-app": "payments"}),
            found("prod", "lonely")]
    groups = group_apps(apps, "team-app")
    assert {k: [a.name for a in v] for k, v in groups.items()} == {
        "payments": ["pay-prod", "pay-stg"], "lonely": ["lonely"]}
    assert set(group_apps(apps, "")) == {"pay-prod", "pay-stg", "lonely"}


def test_group_status_is_the_worst_of_its_apps():
    apps = [found("prod", "a", labels={"app": "svc"}, health_status="Healthy"),
            found("stg", "b", labels={"app": "svc"}, health_status="Degraded",
                  sync_status="OutOfSync")]
    change = plan(apps, label_key="app", environments=set(), services={})[0]
    annotations = change.data["metadata"]["annotations"]
    assert annotations["argocd.io/healthStatus"] == "Degraded"
    assert annotations["argocd.io/syncStatus"] == "OutOfSync"
    assert annotations["argocd.io/apps"] == "prod:a,stg:b"


def test_helm_chart_sources_are_not_repositories():
    chart = found("prod", "chart-only", repo_url="https://charts.example.com", chart="x")
    change = plan([chart], label_key="", environments=set(), services={})[0]
    assert "repoUrl" not in change.data["spec"]
    assert "argocd.io/repoURL" not in change.data["metadata"]["annotations"]


def test_deployed_in_only_for_existing_environments():
    apps = [found("prod", "svc", dest_namespace="production"),
            found("prod", "other", dest_namespace="team-x")]
    changes = {c.name: c for c in plan(apps, label_key="", environments={"production"},
                                       services={})}
    assert changes["svc"].data["spec"]["deployedIn"] == [
        {"kind": "Environment", "name": "production"}]
    assert "deployedIn" not in changes["other"].data["spec"]


def test_merge_keeps_what_a_person_wrote():
    existing = {"apiVersion": "gantry.io/v1", "kind": "Service",
                "metadata": {"name": "svc", "namespace": "team",
                             "annotations": {"owner.io/pager": "x",
                                             "argocd.io/syncStatus": "Stale"}},
                "spec": {"type": "worker", "repoUrl": "https://github.com/me/mine"}}
    proposed = plan([found("prod", "svc", repo_url="https://github.com/acme/svc")],
                    label_key="", environments=set(), services={})[0].data
    merged = merge(existing, proposed)
    assert merged["metadata"]["namespace"] == "team"
    assert merged["metadata"]["annotations"]["owner.io/pager"] == "x"
    assert merged["metadata"]["annotations"]["argocd.io/syncStatus"] == "Synced"
    assert merged["spec"]["type"] == "worker"
    assert merged["spec"]["repoUrl"] == "https://github.com/me/mine"
    assert merged["spec"]["lifecycle"] == "production"  # absent, so filled
    assert existing["spec"] == {"type": "worker", "repoUrl": "https://github.com/me/mine"}

    unchanged = plan([found("prod", "svc", repo_url="https://github.com/acme/svc")],
                     label_key="", environments=set(),
                     services={"svc": ExistingEntity("Service/svc.yaml", 0, merged)})
    assert unchanged == []


def test_last_synced_comes_from_the_last_operation():
    app = found("prod", "svc")
    assert "argocd.io/lastSyncedAt" not in plan([app], label_key="", environments=set(),
                                                services={})[0].data["metadata"]["annotations"]
    app.app["status"]["operationState"] = {"phase": "Succeeded",
                                           "finishedAt": "2026-03-12T10:30:00Z"}
    annotations = plan([app], label_key="", environments=set(),
                       services={})[0].data["metadata"]["annotations"]
    assert annotations["argocd.io/lastSyncedAt"] == "2026-03-12T10:30:00Z"
