"""Fixtures of the plugin tests: a Git repository holding a copy of the example catalog,
fake ArgoCD servers, and a bare repository as a GitOps remote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.fakes.argocd import FakeArgoCD

ROOT = Path(__file__).resolve().parents[2]
GANTRY = str(Path(sys.executable).with_name("gantry"))


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def make_catalog_repo(path: Path) -> Path:
    """A Git repository at `path` with `catalog/` copied from the project; returns catalog."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "catalog", path / "catalog")
    if (ROOT / "gantry.yaml").exists():
        shutil.copy(ROOT / "gantry.yaml", path / "gantry.yaml")
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Catalog Keeper")
    git(path, "config", "user.email", "keeper@example.com")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Seed catalog")
    return path / "catalog"


@pytest.fixture
def catalog_repo(tmp_path: Path) -> Path:
    return make_catalog_repo(tmp_path / "repo")


@pytest.fixture
def argocd_pair():
    """Two fake ArgoCD instances: production (token) and staging (username/password)."""
    with FakeArgoCD() as production, FakeArgoCD(username="gantry", password="s3cret-pw") as staging:
        production.add_app("payment-api", repo_url="https://github.com/acme/payment-api",
                           dest_namespace="production", labels={"app": "payment-api"},
                           resources=[{"group": "apps", "version": "v1", "kind": "Deployment",
                                       "namespace": "production", "name": "payment-api",
                                       "status": "Synced", "health": {"status": "Healthy"}}])
        production.add_app("checkout-web", repo_url="https://github.com/acme/checkout-web.git",
                           dest_namespace="checkout", labels={"app": "checkout"},
                           sync_status="OutOfSync", health_status="Progressing")
        production.add_app("billing-batch", project="finance", dest_namespace="production",
                           repo_url="https://github.com/acme/billing-batch")
        staging.add_app("payment-api-staging", repo_url="https://github.com/acme/payment-api",
                        dest_namespace="staging", labels={"app": "payment-api"})
        staging.add_app("checkout-web-staging", dest_namespace="staging",
                        repo_url="https://charts.acme.com", chart="checkout",
                        labels={"app": "checkout"})
        yield production, staging


def run_gantry(*args: str, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([GANTRY, *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=120)
