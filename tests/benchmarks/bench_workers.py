"""GET throughput of `gantry serve --workers N` for N = 1, 2, 4, each against the bare Flask
endpoint on the same gunicorn configuration with the same number of workers.

    python -m tests.benchmarks workers [--entities N] [--seconds S] [--clients C]
                                       [--client-processes P] [--workers 1 2 4]

The load comes from P client processes (C keep-alive connections in all), so the client's
own interpreter lock does not cap what several server workers can answer; on a small
machine the clients and the servers share the cores, which the figures include. Runner and
bare endpoint are measured in alternating rounds (median of each). With `--entities` the
catalog is synthetic (tests/benchmarks/synth.py); the workers after the first start from
the first one's index. The runner's CPU milliseconds per request (master and workers,
from /proc) show what each request costs whatever the number of workers: on a machine with
enough cores, throughput grows with the workers until the cores are used.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.benchmarks import synth
from tests.benchmarks.bench_runner import ROUNDS, start_bare, throughput
from tests.support.runner_process import RunnerProcess, make_catalog_repo


def _load(base_url: str, path: str, headers: dict[str, str], clients: int,
          seconds: float) -> float:
    return throughput(base_url, path, headers, clients, seconds)


def spread_throughput(base_url: str, path: str, headers: dict[str, str], clients: int,
                      processes: int, seconds: float) -> float:
    """Requests per second with `clients` connections spread over `processes` processes."""
    shares = [clients // processes + (1 if n < clients % processes else 0)
              for n in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        futures = [pool.submit(_load, base_url, path, headers, share, seconds)
                   for share in shares if share]
        return sum(future.result() for future in futures)


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a gunicorn master and its workers (Linux /proc)."""
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                pids += [int(child) for child in handle.read().split()]
    except OSError:
        return float("nan")
    total = 0
    for each in pids:
        try:
            with open(f"/proc/{each}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def measure(repo: Path, work: Path, workers: int, args: argparse.Namespace
            ) -> tuple[float, float, float, float]:
    runner = RunnerProcess(repo / "catalog", work / f"data-{workers}", workers=workers,
                           startup_timeout=1800)
    with runner:
        with runner.client() as client:
            target = client.get("/api/v1/entities/service", params={"limit": 1}).json()[0]
            path = (f"/api/v1/entities/service/{target['metadata']['name']}"
                    f"?namespace={target['metadata'].get('namespace') or 'default'}")
            body = json.dumps(client.get(path).json()).encode()
        bare, bare_url = start_bare(body, work, workers)
        try:
            spread_throughput(runner.base_url, path, runner.auth(), args.clients,
                              args.client_processes, 1.0)  # every worker warm
            runner_rps, bare_rps, cpu_per_request, bare_cpu = [], [], [], []
            for _ in range(ROUNDS):
                cpu_before = server_cpu_seconds(runner.process.pid)
                rps = spread_throughput(runner.base_url, path, runner.auth(), args.clients,
                                        args.client_processes, args.seconds / ROUNDS)
                cpu = server_cpu_seconds(runner.process.pid) - cpu_before
                runner_rps.append(rps)
                cpu_per_request.append(cpu / (rps * args.seconds / ROUNDS) * 1000)
                cpu_before = server_cpu_seconds(bare.pid)
                rps = spread_throughput(bare_url, "/entity", {}, args.clients,
                                        args.client_processes, args.seconds / ROUNDS)
                cpu = server_cpu_seconds(bare.pid) - cpu_before
                bare_rps.append(rps)
                bare_cpu.append(cpu / (rps * args.seconds / ROUNDS) * 1000)
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(timeout=30)
    return (statistics.median(runner_rps), statistics.median(bare_rps),
            statistics.median(cpu_per_request), statistics.median(bare_cpu))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_workers")
    parser.add_argument("--entities", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=9.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gantry-bench-workers-") as folder:
        work = Path(folder)
        source = None
        if args.entities:
            source = work / "synthetic"
            synth.generate(source, args.entities, seed=3)
        repo = make_catalog_repo(work / "repo", catalog=source)
        print(f"catalog: {args.entities or 'example'}; {args.clients} connections from "
              f"{args.client_processes} client processes", flush=True)
        first = None
        for workers in args.workers:
            started = time.perf_counter()
            runner_rps, bare_rps, cpu_ms, bare_ms = measure(repo, work, workers, args)
            first = first or runner_rps
            print(f"  {workers} worker(s): GET entity {runner_rps:.0f} req/s "
                  f"({runner_rps / first:.2f}x one worker), bare Flask {bare_rps:.0f} req/s "
                  f"-> {runner_rps / bare_rps:.0%}; CPU a request {cpu_ms:.2f} ms "
                  f"(bare {bare_ms:.2f} ms)  "
                  f"({time.perf_counter() - started:.0f} s)",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
