"""A replica's start at scale: /healthz, /readyz 200 and the site rendered, timed.

    python -m tests.benchmarks ready [--entities N] [--work DIR] [--cold]

A synthetic catalog of N entities (default 100k) is committed to a repository with a bare
`origin`. CI's index is written at that commit (`build_index`, the file `gantry build`
writes as `catalog.duckdb`); then three commits change three entities, as when the
catalog moved on after the last publish. A new replica clones `origin` and starts
`gantry serve` with an empty data folder and `GANTRY_INDEX_SEED` pointing at CI's index;
it is timed from the spawn until `/healthz` answers, until `/readyz` is 200, and until
nothing is warming (the site rendered). The same replica is then restarted on its own
index and site. `--cold` also times a start with neither seed nor data (a full build).
`--work DIR` keeps the generated repository and seed for another run; `--site` also waits
for the site (minutes at 100k).

Target (issue 17): `/readyz` 200 within 20 s at 100k.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from generator.index.build import build_index
from tests.benchmarks import synth
from tests.support.runner_process import RunnerProcess, git, http, make_catalog_repo

CHANGED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_ready")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--site", action="store_true",
                        help="also wait until the site is rendered (minutes at 100k)")
    args = parser.parse_args(argv)
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        return _run(args.work, args.entities, args.cold, args.site)
    with tempfile.TemporaryDirectory(prefix="gantry-bench-ready-") as folder:
        return _run(Path(folder), args.entities, args.cold, args.site)


def _run(work: Path, entities: int, cold: bool, site: bool) -> int:
    origin = work / "origin-remote.git"
    seed = work / "ci" / "catalog.duckdb"
    if not seed.is_file():
        started = time.perf_counter()
        synth.generate(work / "src", entities)
        repo = make_catalog_repo(work / "origin", catalog=work / "src", with_remote=True)
        stats = build_index(repo / "catalog", seed)
        print(f"catalog of {stats.entities} entities and CI's index written in "
              f"{time.perf_counter() - started:.1f} s")
        _move_on(repo)
    replica = work / f"replica-{time.time_ns()}"
    started = time.perf_counter()
    subprocess.run(["git", "clone", "-q", str(origin), str(replica)], check=True)
    print(f"replica cloned in {time.perf_counter() - started:.1f} s")
    data = replica.with_name(replica.name + "-data")
    runner = RunnerProcess(replica / "catalog", data, wait_for="healthz", startup_timeout=600,
                           env={"GANTRY_INDEX_SEED": str(seed)})
    _timed_start(runner, "new replica with the seed", site)
    _timed_start(runner, "the same replica restarted", site)
    if cold:
        bare = RunnerProcess(replica / "catalog", replica.with_name(replica.name + "-cold"),
                             wait_for="healthz", startup_timeout=900)
        _timed_start(bare, "new replica without seed (full build)", site)
    return 0


def _move_on(repo: Path) -> None:
    """Three commits after CI's index, each changing one entity's description."""
    files = sorted((repo / "catalog" / "Service").rglob("*.yaml"))[:CHANGED]
    for number, path in enumerate(files):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("description: ", f"description: moved on {number} ", 1),
                        encoding="utf-8")
        git(repo, "commit", "-qam", f"Change {path.stem} after the publish")
    git(repo, "push", "-q", "origin", "main")


def _seconds(value: float | None) -> str:
    return "not within 30 minutes" if value is None else f"{value:.1f} s"


def _timed_start(runner: RunnerProcess, label: str, site: bool) -> None:
    spawned = time.perf_counter()
    runner.start()
    try:
        healthz = time.perf_counter() - spawned
        ready = warm = None
        while time.perf_counter() - spawned < 1800:
            response = http.get(runner.url("/readyz"), timeout=10)
            now = time.perf_counter() - spawned
            if response.status_code == 200:
                ready = ready or now
                if not response.json()["warming"]:
                    warm = now
            if warm is not None or (ready is not None and not site):
                break
            time.sleep(0.05)
        caught = [line for line in runner.log().splitlines() if "index: " in line]
        print(f"{label}: /healthz {_seconds(healthz)}, /readyz 200 {_seconds(ready)}"
              + (f", site rendered {_seconds(warm)}" if site else ""))
        for line in caught:
            print(f"    {line.split('] ', 3)[-1]}")
    finally:
        runner.stop()


if __name__ == "__main__":
    raise SystemExit(main())
