"""Small real catalogs, real Git repositories and real DuckDB files for the index tests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from generator.index.build import build_index


def document(kind: str, name: str, namespace: str | None = None, spec: dict | None = None,
             **metadata: object) -> dict:
    meta: dict = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta.update(metadata)
    return {"apiVersion": "gantry.io/v1", "kind": kind, "metadata": meta, "spec": spec or {}}


def write(root: Path, rel: str, *documents: dict) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


SMALL = {
    "Team/payments-team.yaml": [document("Team", "payments-team", title="Payments Team",
                                         spec={"email": "payments@example.com"})],
    "Team/platform-team.yaml": [document("Team", "platform-team", title="Platform Team")],
    "Environment/production.yaml": [document("Environment", "production", title="Production",
                                             spec={"type": "production"})],
    "Infrastructure/postgres-payments.yaml": [document(
        "Infrastructure", "postgres-payments", title="Postgres for payments",
        owner="platform-team", spec={"type": "database", "lifecycle": "production"})],
    "API/payment-events.yaml": [document(
        "API", "payment-events", title="Payment events", owner="payments-team",
        spec={"type": "event", "lifecycle": "production"})],
    "API/ledger-api.yaml": [document(
        "API", "ledger-api", title="Ledger API", owner="platform-team",
        spec={"type": "rest", "lifecycle": "production"})],
    "Service/payment-api.yaml": [document(
        "Service", "payment-api", title="Payment API",
        description="Handles all payment processing", owner="payments-team",
        tags=["payments", "pci"], labels={"tier": "1"}, annotations={"gantry.io/x": "y"},
        spec={"type": "backend", "lifecycle": "production",
              "dependsOn": [{"kind": "Infrastructure", "name": "postgres-payments"}],
              "deployedIn": [{"kind": "Environment", "name": "production"}],
              "providesApis": ["payment-events"], "consumesApis": ["ledger-api"]})],
    "Service/payment-api-gateway.yaml": [document(
        "Service", "payment-api-gateway", title="Gateway", owner="platform-team",
        description="Fronts the public endpoints",
        spec={"type": "backend", "lifecycle": "production"})],
    "Service/billing-worker.yaml": [document(
        "Service", "billing-worker", title="Billing Worker", owner="platform-team",
        tags=["payment"], description="Sends invoices",
        spec={"type": "worker", "lifecycle": "production",
              "dependsOn": [{"kind": "Service", "name": "payment-api"}]})],
    "Service/checkout-web.yaml": [document(
        "Service", "checkout-web", title="Checkout Web", owner="platform-team",
        description="Calls the payment service to take money",
        spec={"type": "frontend", "lifecycle": "production",
              "consumesApis": ["payment-events"]})],
    "Service/repayment-scheduler.yaml": [document(
        "Service", "repayment-scheduler", title="Repayment Scheduler", owner="platform-team",
        description="Schedules loan instalments",
        spec={"type": "worker", "lifecycle": "experimental"})],
    "Documentation/runbooks.yaml": [
        document("Documentation", "payment-runbook", title="Payment API runbook",
                 owner="payments-team", spec={"type": "runbook", "url": "https://x.test/r",
                                              "relatedTo": [{"kind": "Service",
                                                             "name": "payment-api"}]}),
        document("Documentation", "ledger-wiki", title="Ledger wiki", owner="platform-team",
                 spec={"type": "wiki", "url": "https://x.test/w"}),
    ],
    "shop/cart-api.yaml": [document(
        "Service", "cart-api", namespace="shop", title="Cart API", owner="payments-team",
        spec={"type": "backend", "lifecycle": "production",
              "dependsOn": [{"kind": "Service", "name": "payment-api"}]})],
}


def write_small(root: Path) -> Path:
    for rel, documents in SMALL.items():
        write(root, rel, *documents)
    return root


class Git:
    """A real repository; every commit names its author and date explicitly."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.run("init", "-q", "-b", "main")

    def run(self, *args: str, env: dict | None = None) -> str:
        base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        base.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
                     "HOME": str(self.path)})
        base.update(env or {})
        done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=self.path,
                              env=base, capture_output=True, text=True, check=True)
        return done.stdout

    def commit(self, message: str, author: str, email: str, date: str) -> str:
        self.run("add", "-A")
        stamp = f"{date} +0000"
        self.run("commit", "-q", "-m", message, env={
            "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": stamp})
        return self.run("rev-parse", "HEAD").strip()


@dataclass
class Built:
    root: Path
    index: Path

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.index), read_only=True)


def make_small(folder: Path) -> Built:
    """The small catalog, committed, and its index."""
    repo = Git(folder / "repo")
    root = write_small(repo.path / "catalog")
    repo.commit("add the catalog", "Alice", "alice@example.com", "2024-01-02T10:00:00")
    index = folder / "out" / "catalog.duckdb"
    build_index(root, index)
    return Built(root, index)


@pytest.fixture
def small(tmp_path: Path) -> Built:
    """A fresh small catalog and index that the test may change."""
    return make_small(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One small catalog and index per module, for tests that only read."""
    return make_small(tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def con(shared: Built):
    connection = shared.connect()
    yield connection
    connection.close()
