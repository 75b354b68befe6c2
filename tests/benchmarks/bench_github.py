"""github-action: latency from `execute` to the dispatch arriving at GitHub, and 200 GitHub
runs followed at once with a bounded number of threads in the runner.

Against a real `gantry serve` process and the fake GitHub server of the tests:
- latency: N sequential executions of `deploy-service` (the example catalog's github-action);
  the time from sending `POST /execute` to the fake GitHub receiving the `workflow_dispatch`
  (p50, p95; target p95 ≤ 100 ms);
- concurrency: 200 executions whose workflow runs stay `in_progress` for a while, so all 200
  are followed together; the runner's thread count is sampled throughout (it must not grow
  with the number of runs) and every run must end in success.

Run with `python -m tests.benchmarks.bench_github [--runs 100] [--concurrent 200]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_actions import run_concurrently
from tests.github.fake_github import FakeGitHub
from tests.support.runner_process import RunnerProcess, http, make_catalog_repo

P95_TARGET_MS = 100.0
TOKEN = "ghp_benchmarkToken0123456789"
INPUTS = {"service": {"required": True}, "environment": {"required": True}, "dry_run": {},
          "notes": {}}
BODY = {"inputs": {"service": "payment-api", "environment": "staging"}}


def _latency(runner: RunnerProcess, github: FakeGitHub, runs: int) -> list[float]:
    latencies = []
    with runner.client() as client:
        for _ in range(runs):
            count = len(github.dispatches)
            sent = time.time()
            response = client.post("/api/v1/actions/deploy-service/execute", json=BODY)
            response.raise_for_status()
            arrived = github.wait_for_dispatches(count + 1)[count].at
            latencies.append((arrived - sent) * 1000)
    return latencies


def _concurrent(runner: RunnerProcess, github: FakeGitHub, count: int) -> dict:
    github.workflows[0].statuses = ("queued",) + ("in_progress",) * 8 + ("completed",)
    return run_concurrently(runner, "deploy-service", [BODY] * count, timeout=180)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_github")
    parser.add_argument("--runs", type=int, default=100, help="sequential executions")
    parser.add_argument("--concurrent", type=int, default=200, help="runs followed at once")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gantry-bench-github-") as folder, \
            FakeGitHub(token=TOKEN) as github:
        github.add_workflow("acme", "deployments", "deploy.yml", inputs=INPUTS,
                            statuses=("completed",))
        root = Path(folder)
        repo = make_catalog_repo(root / "repo")
        env = {"GANTRY_GITHUB_POLL_INTERVAL": "0.5"}
        with RunnerProcess(repo / "catalog", root / "data", env=env) as runner:
            http.put(runner.url("/api/v1/plugins/github/config"), headers=runner.auth(),
                     json={"personalAccessToken": TOKEN,
                           "apiUrl": github.api_url}).raise_for_status()
            _latency(runner, github, 5)  # warm up connections and caches
            latencies = _latency(runner, github, args.runs)
            concurrent = _concurrent(runner, github, args.concurrent)
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"execute → workflow_dispatch at GitHub: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max "
          f"{max(latencies):.1f} ms over {len(latencies)} runs (target p95 ≤ {P95_TARGET_MS:g})")
    print(f"{concurrent['total']} GitHub runs followed at once: runner threads "
          f"{concurrent['baseline']} before, {concurrent['peak']} at most; "
          f"{concurrent['success']} succeeded in {concurrent['seconds']:.1f} s")
    failed = p95 > P95_TARGET_MS or concurrent["success"] != concurrent["total"]
    failed = failed or concurrent["peak"] - concurrent["baseline"] > 32
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
