"""ArgoCD discovery at scale: `gantry discover argocd` against a fake ArgoCD with many apps,
and the pure planning step against a catalog of 100,000 Services.

    python -m tests.benchmarks discovery
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from runner.plugins.argocd.discovery import DiscoveredApp, ExistingEntity, plan
from tests.plugins.conftest import make_catalog_repo
from tests.plugins.fakes.argocd import FakeApp, FakeArgoCD

APPS_PER_INSTANCE = 1000
EXISTING_SERVICES = 100_000


def _cli(catalog: Path, config: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).with_name("gantry")), "discover", "argocd",
                           "--catalog", str(catalog), "--config", str(config)],
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stderr.strip()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, FakeArgoCD() as prod, FakeArgoCD() as stg:
        base = Path(tmp)
        catalog = make_catalog_repo(base / "repo")
        for i in range(APPS_PER_INSTANCE):
            labels = {"app": f"svc-{i:05d}"}
            prod.add_app(f"svc-{i:05d}-prod", labels=labels, dest_namespace="production",
                         repo_url=f"https://github.com/acme/svc-{i:05d}")
            stg.add_app(f"svc-{i:05d}-stg", labels=labels, dest_namespace="staging",
                        repo_url=f"https://github.com/acme/svc-{i:05d}")
        config = base / "argocd.yaml"
        config.write_text(yaml.safe_dump({"labelKey": "app", "instances": [
            {"name": "production", "argocdUrl": prod.url, "token": prod.issue_token()},
            {"name": "staging", "argocdUrl": stg.url, "token": stg.issue_token()}]}))
        first, note = _cli(catalog, config)
        print(f"discover {2 * APPS_PER_INSTANCE} apps -> {APPS_PER_INSTANCE} new Services: "
              f"{first:.2f}s ({note})")
        again, note = _cli(catalog, config)
        print(f"discover again, nothing changed: {again:.2f}s ({note})")

    apps = [DiscoveredApp("production", FakeApp(name=f"svc-{i:06d}").document("argocd"))
            for i in range(0, EXISTING_SERVICES, 50)]
    services = {f"svc-{i:06d}": ExistingEntity(f"Service/svc-{i:06d}.yaml", 0, {
        "apiVersion": "gantry.io/v1", "kind": "Service",
        "metadata": {"name": f"svc-{i:06d}"}, "spec": {"type": "backend"}})
        for i in range(EXISTING_SERVICES)}
    started = time.perf_counter()
    changes = plan(apps, label_key="", environments={"production"}, services=services)
    print(f"plan {len(apps)} apps against {EXISTING_SERVICES} Services: "
          f"{time.perf_counter() - started:.3f}s ({len(changes)} updates)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
