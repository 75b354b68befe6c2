"""`gantry discover argocd` against two fake ArgoCD instances and a real Git repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.plugins.conftest import git, run_gantry


def write_config(path: Path, production, staging, **extra) -> Path:
    config = {
        "instances": [
            {"name": "production", "argocdUrl": production.url, "token": "${PROD_ARGOCD_TOKEN}",
             "project": "default"},
            {"name": "staging", "argocdUrl": staging.url, "username": "gantry",
             "password": "${STAGING_ARGOCD_PASSWORD}"},
        ],
        "labelKey": "app",
        **extra,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_discovery_merges_two_instances_in_one_commit(catalog_repo, argocd_pair, tmp_path):
    production, staging = argocd_pair
    config = write_config(tmp_path / "argocd.yaml", production, staging)
    env = {"PROD_ARGOCD_TOKEN": production.issue_token(), "STAGING_ARGOCD_PASSWORD": "s3cret-pw"}
    repo = catalog_repo.parent
    before = git(repo, "rev-parse", "HEAD")
    original_payment = (catalog_repo / "Service/default/payment-api.yaml").read_text()

    done = run_gantry("discover", "argocd", "--catalog", str(catalog_repo), "--config",
                      str(config), "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["created"] == ["checkout"]
    assert result["updated"] == ["payment-api"]
    assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
    assert git(repo, "log", "-1", "--format=%an") == "Catalog Keeper"
    changed = git(repo, "diff", "--name-only", before, "HEAD").splitlines()
    assert sorted(changed) == ["catalog/Service/default/checkout.yaml",
                               "catalog/Service/default/payment-api.yaml"]

    # the project filter reached ArgoCD and kept billing-batch out
    listing = [r for r in production.requests if r["path"] == "/api/v1/applications"]
    assert listing and listing[0]["query"]["projects"] == ["default"]
    assert not (catalog_repo / "Service/default/billing-batch.yaml").exists()
    # staging authenticated with username/password through /api/v1/session
    assert staging.logins == 1

    checkout = documents(catalog_repo / "Service/default/checkout.yaml")[0]
    annotations = checkout["metadata"]["annotations"]
    assert annotations["argocd.io/apps"] == "production:checkout-web,staging:checkout-web-staging"
    assert annotations["argocd.io/appName"] == "checkout-web"
    assert annotations["argocd.io/syncStatus"] == "OutOfSync"
    assert annotations["argocd.io/healthStatus"] == "Progressing"
    assert annotations["argocd.io/destNamespace"] == "checkout"
    assert checkout["spec"]["repoUrl"] == "https://github.com/acme/checkout-web.git"
    # "checkout" is no Environment, "staging" is: only the resolvable reference is kept
    assert checkout["spec"]["deployedIn"] == [{"kind": "Environment", "name": "staging"}]

    payment_text = (catalog_repo / "Service/default/payment-api.yaml").read_text()
    payment = documents(catalog_repo / "Service/default/payment-api.yaml")[0]
    original = yaml.safe_load(original_payment)
    # a person's fields and comments survive; only argocd.io/* annotations were added
    assert payment_text.startswith("# Payment API — the heart of the payments system.")
    assert payment["spec"] == original["spec"]
    for key in ("title", "description", "owner", "tags", "links", "labels"):
        assert payment["metadata"][key] == original["metadata"][key]
    assert payment["metadata"]["annotations"]["argocd.io/apps"] == (
        "production:payment-api,staging:payment-api-staging")
    assert payment["metadata"]["annotations"]["argocd.io/repoURL"] == (
        "https://github.com/acme/payment-api")
    assert "Service `checkout`" in done.stdout or "`checkout`" in result["summary"]

    # a second run finds nothing to change and makes no commit
    again = run_gantry("discover", "argocd", "--catalog", str(catalog_repo), "--config",
                       str(config), env=env)
    assert again.returncode == 0, again.stderr
    assert "Nothing changed" in again.stdout
    assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"

    # the catalog still validates (references of deployedIn resolve)
    pytest.importorskip("generator.commands.validate")
    check = run_gantry("validate", str(catalog_repo))
    assert check.returncode == 0, check.stdout + check.stderr


def test_discovery_refreshes_only_argocd_annotations(catalog_repo, argocd_pair, tmp_path):
    production, staging = argocd_pair
    config = write_config(tmp_path / "argocd.yaml", production, staging)
    env = {"PROD_ARGOCD_TOKEN": production.issue_token(), "STAGING_ARGOCD_PASSWORD": "s3cret-pw"}
    assert run_gantry("discover", "argocd", "--catalog", str(catalog_repo), "--config",
                      str(config), env=env).returncode == 0
    path = catalog_repo / "Service/default/checkout.yaml"
    # a person takes ownership of the discovered service
    text = path.read_text().replace("type: backend", "type: frontend")
    text = text.replace("lifecycle: production", "lifecycle: experimental")
    path.write_text(text.replace("metadata:\n", "metadata:\n  title: Checkout (hand-named)\n", 1))
    git(catalog_repo.parent, "commit", "-qam", "Own the checkout service")
    production.apps["checkout-web"].sync_status = "Synced"
    staging.apps["checkout-web-staging"].sync_status = "Synced"

    done = run_gantry("discover", "argocd", "--catalog", str(catalog_repo), "--config",
                      str(config), env=env)
    assert done.returncode == 0, done.stderr
    checkout = documents(path)[0]
    assert checkout["metadata"]["title"] == "Checkout (hand-named)"
    assert checkout["spec"]["type"] == "frontend"
    assert checkout["spec"]["lifecycle"] == "experimental"
    assert checkout["metadata"]["annotations"]["argocd.io/syncStatus"] == "Synced"


def test_unset_secret_variable_is_a_usage_error(catalog_repo, argocd_pair, tmp_path):
    production, staging = argocd_pair
    config = write_config(tmp_path / "argocd.json", production, staging)
    config.write_text(json.dumps(yaml.safe_load(config.read_text())))  # JSON works too
    done = run_gantry("discover", "argocd", "--catalog", str(catalog_repo), "--config",
                      str(config), env={"STAGING_ARGOCD_PASSWORD": "x"})
    assert done.returncode == 2
    assert "PROD_ARGOCD_TOKEN is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_argocd_refusal_is_reported_and_nothing_written(catalog_repo, argocd_pair, tmp_path):
    production, staging = argocd_pair
    config = write_config(tmp_path / "argocd.yaml", production, staging)
    repo = catalog_repo.parent
    before = git(repo, "rev-parse", "HEAD")
    done = run_gantry("discover", "argocd", "--catalog", str(catalog_repo), "--config",
                      str(config), env={"PROD_ARGOCD_TOKEN": "not-a-valid-token",
                                        "STAGING_ARGOCD_PASSWORD": "s3cret-pw"})
    assert done.returncode == 1
    assert "ArgoCD production" in done.stderr and "token is expired" in done.stderr
    assert git(repo, "rev-parse", "HEAD") == before
    assert git(repo, "status", "--porcelain") == ""


def test_catalog_outside_git_is_refused_without_writing(argocd_pair, tmp_path):
    production, staging = argocd_pair
    catalog = tmp_path / "plain" / "catalog"
    (catalog / "Environment").mkdir(parents=True)
    (catalog / "Environment/production.yaml").write_text(
        "apiVersion: gantry.io/v1\nkind: Environment\nmetadata: {name: production}\n"
        "spec: {type: production}\n")
    config = write_config(tmp_path / "argocd.yaml", production, staging)
    env = {"PROD_ARGOCD_TOKEN": production.issue_token(), "STAGING_ARGOCD_PASSWORD": "s3cret-pw"}
    done = run_gantry("discover", "argocd", "--catalog", str(catalog), "--config", str(config),
                      env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "not inside a Git work tree" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.relative_to(catalog).as_posix() for p in catalog.rglob("*")) == [
        "Environment", "Environment/production.yaml"]
