"""Write on one replica → searchable on another: two `gantry serve` processes, one bare
`origin`, one PostgreSQL started from the system's server binaries (skipped without them).

`python -m tests.benchmarks replicas [--writes N]` creates N services on replica A, one after
another, and times each from A's 201 until B's search finds it; prints p50, p95 and max.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.runner.test_replicas_process import start_together
from tests.runner.test_replicas_writes import clone, service
from tests.support.postgres import INSTALL_HINT, PostgresServer, server_binaries
from tests.support.runner_process import RunnerProcess, http, make_catalog_repo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_replicas")
    parser.add_argument("--writes", type=int, default=20)
    args = parser.parse_args(argv)
    binaries = server_binaries()
    if binaries is None:
        print(f"skipped: {INSTALL_HINT}")
        return 0
    server = PostgresServer(binaries).start()
    try:
        with tempfile.TemporaryDirectory(prefix="gantry-bench-replicas-") as folder:
            root = Path(folder)
            first = make_catalog_repo(root / "a", with_remote=True)
            second = clone(root / "a-remote.git", root / "b")
            env = {"GANTRY_DATABASE_URL": server.new_database()}
            a = RunnerProcess(first / "catalog", root / "a-data", env=env)
            b = RunnerProcess(second / "catalog", root / "b-data", env=env)
            start_together([a, b])
            try:
                delays = [_one_write(a, b, f"bench-replica-{n}") for n in range(args.writes)]
            finally:
                a.stop()
                b.stop()
    finally:
        server.stop()
    delays.sort()
    p95 = delays[min(len(delays) - 1, round(0.95 * (len(delays) - 1)))]
    print(f"write on A -> searchable on B over {len(delays)} writes: "
          f"p50 {statistics.median(delays):.2f} s, p95 {p95:.2f} s, max {delays[-1]:.2f} s")
    return 0


def _one_write(a: RunnerProcess, b: RunnerProcess, name: str) -> float:
    created = http.post(a.url("/api/v1/entities"), headers=a.auth(),
                        json=service(name, "written by the replica benchmark"))
    created.raise_for_status()
    answered = time.perf_counter()
    while time.perf_counter() - answered < 30:
        found = http.get(b.url("/api/v1/search"), params={"q": name}, headers=b.auth())
        if any(hit["name"] == name for hit in found.json()):
            return time.perf_counter() - answered
        time.sleep(0.02)
    raise RuntimeError(f"{name} never became searchable on B")


if __name__ == "__main__":
    raise SystemExit(main())
