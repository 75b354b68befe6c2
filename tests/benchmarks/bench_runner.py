"""Runner speed over HTTP: GET entity and search latency, write → searchable, and GET entity
throughput against a bare Flask endpoint on the same gunicorn configuration.

    python -m tests.benchmarks.bench_runner [--entities N] [--seconds S] [--clients C]

Without `--entities` the example catalog is served; with it, a synthetic catalog of N
entities (tests/benchmarks/synth.py) in a fresh Git repository. The load client is a bounded
Python client on loopback: C threads with one keep-alive connection each, for S seconds.
The bare endpoint answers the same entity JSON from memory (no auth, no index), served by
`RunnerServer` with the same worker class and thread count, so the ratio shows what the
runner's own work costs; the two are measured in alternating rounds (median of each) so
that a change in background load hits both alike.

Targets: GET entity p95 ≤ 5 ms, search p95 ≤ 15 ms, write → searchable ≤ 1 s, throughput
≥ 60% of the bare endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.benchmarks import synth
from tests.support.runner_process import RunnerProcess, free_port, make_catalog_repo

SAMPLES = 300
ROUNDS = 3


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def latency(client: httpx.Client, path: str, count: int = SAMPLES) -> tuple[float, float]:
    """(p50, p95) in milliseconds of `count` sequential GETs."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append(time.perf_counter() - started)
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1000, p95(samples)


def throughput(base_url: str, path: str, headers: dict[str, str], clients: int,
               seconds: float) -> float:
    """Requests per second with `clients` concurrent keep-alive connections."""
    counts = [0] * clients
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            while time.monotonic() < stop:
                response = client.get(path)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:100]}")
                    return
                counts[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"load run failed: {errors[0]}")
    return sum(counts) / (time.monotonic() - started)


def bare_server_main(port: int, body_file: str, workers: int = 1) -> None:
    """The comparison server: one Flask route answering fixed JSON, on `RunnerServer`."""
    from flask import Flask, Response

    from runner.commands.serve import RunnerServer
    from runner.config import Settings

    body = Path(body_file).read_bytes()
    app = Flask("bare")

    @app.get("/entity")
    def entity() -> Response:
        return Response(body, content_type="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status": "ok"}', content_type="application/json")

    RunnerServer(Settings(port=port, workers=workers), app_factory=lambda: app).run()


def start_bare(body: bytes, work: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    body_file = work / "entity.json"
    body_file.write_bytes(body)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.bench_runner", "--bare-server", str(port),
         str(body_file), str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bare server did not start")


def write_to_searchable(client: httpx.Client, team: dict) -> float:
    """Seconds from sending a POST until search finds the new Service (owned by `team`)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    body = {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "namespace": team.get("namespace") or "default",
                         "owner": team["name"], "description": "runner benchmark"},
            "spec": {"type": "backend", "lifecycle": "development"}}
    started = time.perf_counter()
    client.post("/api/v1/entities", json=body).raise_for_status()
    while time.perf_counter() - started < 10:
        hits = client.get("/api/v1/search", params={"q": name}).json()
        if any(hit.get("name") == name for hit in hits):
            return time.perf_counter() - started
    raise RuntimeError("the new entity never became searchable")


def run(entities: int | None, seconds: float, clients: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = None
        if entities:
            source = work / "synthetic"
            synth.generate(source, entities, seed=3)
        repo = make_catalog_repo(work / "repo", catalog=source)
        started = time.perf_counter()
        with RunnerProcess(repo / "catalog", work / "data", startup_timeout=1800) as runner:
            startup = time.perf_counter() - started
            with runner.client() as client:
                hits = client.get("/api/v1/search", params={
                    "q": "service", "kind": "Service", "limit": 50}).json()
                team = client.get("/api/v1/search", params={
                    "q": "team", "kind": "Team", "limit": 1}).json()[0]
                target = hits[len(hits) // 2]
                path = (f"/api/v1/entities/service/{target['name']}"
                        f"?namespace={target.get('namespace') or 'default'}")
                word = target["name"].split("-")[0]
                entity_p50, entity_p95 = latency(client, path)
                search_p50, search_p95 = latency(client, f"/api/v1/search?q={word}")
                searchable = sorted(write_to_searchable(client, team)
                                    for _ in range(5))
                body = json.dumps(client.get(path).json()).encode()
            bare, bare_url = start_bare(body, work)
            try:
                runner_rps, bare_rps = [], []
                for _ in range(ROUNDS):
                    runner_rps.append(throughput(runner.base_url, path, runner.auth(),
                                                 clients, seconds / ROUNDS))
                    bare_rps.append(throughput(bare_url, "/entity", {}, clients,
                                               seconds / ROUNDS))
            finally:
                bare.send_signal(signal.SIGTERM)
                bare.wait(timeout=30)
    return {"entities": entities or "example", "startup": startup, "entity": (entity_p50,
            entity_p95), "search": (search_p50, search_p95), "searchable": searchable,
            "runner_rps": statistics.median(runner_rps),
            "bare_rps": statistics.median(bare_rps)}


def report(result: dict) -> None:
    print(f"catalog: {result['entities']}  (runner start {result['startup']:.1f} s)")
    print(f"  GET entity   p50 {result['entity'][0]:6.2f} ms  p95 {result['entity'][1]:6.2f} ms"
          f"  (target p95 ≤ 5 ms)")
    print(f"  search       p50 {result['search'][0]:6.2f} ms  p95 {result['search'][1]:6.2f} ms"
          f"  (target p95 ≤ 15 ms)")
    searchable = result["searchable"]
    print(f"  write → searchable  median {searchable[len(searchable) // 2] * 1000:.0f} ms"
          f"  worst {searchable[-1] * 1000:.0f} ms  (target ≤ 1000 ms)")
    ratio = result["runner_rps"] / result["bare_rps"] if result["bare_rps"] else 0.0
    print(f"  throughput   GET entity {result['runner_rps']:.0f} req/s, bare Flask "
          f"{result['bare_rps']:.0f} req/s → {ratio:.0%}  (target ≥ 60%)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, action="append",
                        help="synthetic catalog size (repeatable); default: example only")
    parser.add_argument("--seconds", type=float, default=9.0,
                        help="load time per server, split over the rounds")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--bare-server", nargs="+", metavar="PORT BODY [WORKERS]",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        bare_server_main(int(args.bare_server[0]), args.bare_server[1],
                         int(args.bare_server[2]) if len(args.bare_server) > 2 else 1)
        return 0
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for size in [None, *(args.entities or [])]:
        report(run(size, args.seconds, args.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
