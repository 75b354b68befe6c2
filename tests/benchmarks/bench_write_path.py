"""The runner's write path in process, on a large synthetic catalog (no HTTP, no site).

    python -m tests.benchmarks.bench_write_path [--entities 100000] [--writes 20]

Builds a Git repository holding N synthetic entities, starts a `Workspace` on it with the
site build left out (the site has its own benchmark), then measures entity lookups and
the steps of a write: validation, file and commit, index update (`refresh`), and the time
until search finds the new entity.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from generator.index.search import search
from runner.auth import User
from runner.catalog import writer
from runner.catalog.site import SiteRenderer
from runner.catalog.workspace import Workspace
from runner.config import Settings
from tests.benchmarks import synth
from tests.benchmarks.bench_writes import percentiles
from tests.support.runner_process import make_catalog_repo


class NoPagesRenderer(SiteRenderer):
    def build(self, changed_refs: set[str] | None, index_path: Path | None = None) -> None:
        return None


class NoSiteWorkspace(Workspace):
    """The workspace with site rendering switched off, to time the index path alone."""

    site_renderer = NoPagesRenderer


def run(entities: int, writes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gantry-bench-") as scratch:
        base = Path(scratch)
        started = time.perf_counter()
        synth.generate(base / "synthetic", entities)
        repo = make_catalog_repo(base / "repo", catalog=base / "synthetic")
        print(f"{entities} entities generated and committed in "
              f"{time.perf_counter() - started:.1f} s")
        workspace = NoSiteWorkspace(Settings(catalog=repo / "catalog", data_dir=base / "data",
                                             secret_key="benchmark-secret-key"))
        started = time.perf_counter()
        workspace.start()
        print(f"start (validate + index)  {time.perf_counter() - started:8.2f} s")
        services = workspace.entities(kind="Service", limit=200)
        teams = workspace.entities(kind="Team", namespace="default", limit=1)
        owner = teams[0]["metadata"]["name"]
        lookups = []
        for entity in services:
            metadata = entity["metadata"]
            begun = time.perf_counter()
            workspace.record("Service", metadata["name"], metadata["namespace"])
            lookups.append(time.perf_counter() - begun)
        print("record, first read       ", percentiles(lookups))
        author = User("bench", "bench", "platform-engineer", "bench@users.gantry")
        totals, refreshes, visible = [], [], []
        original_refresh = workspace.refresh

        def timed_refresh(paths: list[str]) -> set[str]:
            begun = time.perf_counter()
            try:
                return original_refresh(paths)
            finally:
                refreshes.append(time.perf_counter() - begun)

        workspace.refresh = timed_refresh  # type: ignore[method-assign]
        for index in range(writes):
            name = f"bench-path-{index}"
            begun = time.perf_counter()
            writer.create(workspace, {
                "apiVersion": "gantry.io/v1", "kind": "Service",
                "metadata": {"name": name, "owner": owner},
                "spec": {"type": "backend", "lifecycle": "development"}}, author)
            totals.append(time.perf_counter() - begun)
            with workspace.connect() as con:
                found = search(con, name, limit=1)
            visible.append(time.perf_counter() - begun)
            assert found and found[0]["name"] == name
        print("create (whole write)     ", percentiles(totals))
        print("  of which index refresh ", percentiles(refreshes))
        print("write -> searchable      ", percentiles(visible))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=20)
    args = parser.parse_args(argv)
    run(args.entities, args.writes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
