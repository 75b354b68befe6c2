"""ArgoCD discovery on a replica: its commit is pushed to `origin` like an entity write, and
the other replica serves the discovered Services. Two real `gantry serve` on one real
PostgreSQL, a bare `origin`, a fake ArgoCD speaking its API."""

from __future__ import annotations

import pytest

from tests.plugins.fakes.argocd import FakeArgoCD
from tests.runner.test_replicas_writes import two_replicas, wait_searchable
from tests.support.runner_process import git, http


@pytest.mark.timeout(300)
def test_a_discovery_commit_is_pushed_and_served_by_the_other_replica(tmp_path, pg_url):
    with FakeArgoCD() as argocd, two_replicas(tmp_path, pg_url) as (a, b, bare):
        argocd.add_app("ledger-sync", repo_url="https://github.com/acme/ledger-sync",
                       dest_namespace="production", labels={"app": "ledger-sync"})
        config = {"instances": [{"name": "production", "argocdUrl": argocd.url,
                                 "token": argocd.issue_token()}], "labelKey": "app"}
        assert http.put(a.url("/api/v1/plugins/argocd/config"), headers=a.auth(),
                        json=config).status_code == 200
        assert http.put(a.url("/api/v1/plugins/argocd/enable"), headers=a.auth(),
                        json={"enabled": True}).status_code == 200
        synced = http.post(a.url("/api/v1/plugins/argocd/sync"), headers=a.auth(),
                           timeout=60)
        assert synced.status_code == 200, synced.text
        commit = synced.json()["commit"]
        assert commit and synced.json()["created"] == ["ledger-sync"]
        assert git(bare, "rev-parse", "HEAD").strip() == commit
        wait_searchable(b, "ledger-sync")
        on_b = http.get(b.url("/api/v1/entities/service/ledger-sync"), headers=b.auth())
        assert on_b.status_code == 200
        assert on_b.json()["metadata"]["annotations"]["argocd.io/appName"] == "ledger-sync"
