"""Actions: latency from `execute` to the request arriving at the receiver, and 200 tracked
runs in flight at once with a bounded number of threads in the runner.

Against a real `gantry serve` process and a local webhook receiver:
- latency: N sequential executions of a webhook action; the time from sending
  `POST /execute` to the receiver getting the request (p50, p95; target p95 ≤ 100 ms);
- concurrency: 200 executions whose first delivery is answered 429 with Retry-After, so all
  200 runs wait in backoff together; the runner's thread count is sampled from /proc
  throughout (target: it does not grow with the number of runs) and every run must end in
  success.

Run with `python -m tests.benchmarks.bench_actions [--runs 100] [--concurrent 200]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.actions.conftest import action_files
from tests.actions.fakes.webhook_receiver import WebhookReceiver
from tests.support.runner_process import RunnerProcess, make_catalog_repo

P95_TARGET_MS = 100.0
ACTIONS = {
    "bench-hook": """
        spec:
          type: webhook
          inputs:
            - {name: n, type: number, required: true}
          config:
            url: ${BENCH_HOOK_URL}
    """,
}


def _threads(pid: int) -> int:
    """Threads of the process and all its descendants (gunicorn's master and worker)."""
    children: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(line.split(":", 1) for line in
                          (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        counts[int(entry.name)] = int(fields["Threads"])
        children.setdefault(int(fields["PPid"]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += counts.get(current, 0)
        todo.extend(children.get(current, []))
    return total


def _latency(runner: RunnerProcess, hook: WebhookReceiver, runs: int) -> list[float]:
    latencies = []
    with runner.client() as client:
        for n in range(runs):
            count = len(hook.requests)
            sent = time.time()
            response = client.post("/api/v1/actions/bench-hook/execute", json={"inputs": {"n": n}})
            response.raise_for_status()
            arrived = hook.wait_for(count + 1)[count].at
            latencies.append((arrived - sent) * 1000)
    return latencies


def run_concurrently(runner: RunnerProcess, action: str, bodies: list[dict],
                     timeout: float) -> dict:
    """Start one run per body at once, follow them all to their end, and sample the
    runner's thread count meanwhile: the figures for "many tracked runs, bounded threads"."""
    pid = runner.process.pid
    baseline = _threads(pid)
    peak = baseline
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _threads(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    with runner.client() as client, ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(
            lambda body: client.post(f"/api/v1/actions/{action}/execute",
                                     json=body).json()["id"], bodies))
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with runner.client() as client:
        while time.monotonic() < deadline:
            listed = client.get(f"/api/v1/actions/{action}/runs", params={"limit": 500}).json()
            statuses = {run["id"]: run["status"] for run in listed if run["id"] in ids}
            if len(statuses) == len(ids) and all(
                    status in ("success", "failed") for status in statuses.values()):
                break
            time.sleep(0.2)
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    return {"baseline": baseline, "peak": peak, "seconds": elapsed,
            "success": sum(1 for s in statuses.values() if s == "success"), "total": len(ids)}


def _concurrent(runner: RunnerProcess, hook: WebhookReceiver, count: int) -> dict:
    hook.behaviour.fail_times = len(hook.requests) + count
    hook.behaviour.fail_status = 429
    hook.behaviour.retry_after = "2"
    return run_concurrently(runner, "bench-hook", [{"inputs": {"n": n}} for n in range(count)],
                            timeout=120)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_actions")
    parser.add_argument("--runs", type=int, default=100, help="sequential executions")
    parser.add_argument("--concurrent", type=int, default=200, help="runs in flight at once")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gantry-bench-actions-") as folder, \
            WebhookReceiver() as hook:
        root = Path(folder)
        repo = make_catalog_repo(root / "repo", extra_files=action_files(ACTIONS))
        env = {"BENCH_HOOK_URL": hook.url, "GANTRY_ACTION_ENV": "BENCH_HOOK_URL"}
        with RunnerProcess(repo / "catalog", root / "data", env=env) as runner:
            _latency(runner, hook, 5)  # warm up connections and caches
            latencies = _latency(runner, hook, args.runs)
            concurrent = _concurrent(runner, hook, args.concurrent)
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"execute → webhook request: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max "
          f"{max(latencies):.1f} ms over {len(latencies)} runs (target p95 ≤ {P95_TARGET_MS:g})")
    print(f"{concurrent['total']} concurrent tracked runs: runner threads {concurrent['baseline']}"
          f" before, {concurrent['peak']} at most; {concurrent['success']} succeeded in "
          f"{concurrent['seconds']:.1f} s")
    failed = p95 > P95_TARGET_MS or concurrent["success"] != concurrent["total"]
    failed = failed or concurrent["peak"] - concurrent["baseline"] > 32
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
