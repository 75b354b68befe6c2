"""Entity reads and writes through a real `gantry serve`: latency and write-to-searchable.

    python -m tests.benchmarks.bench_writes [--entities N] [--requests R] [--writes W]

Without `--entities` the example catalog is served; with it, a synthetic catalog of N
entities (tests/benchmarks/synth.py) in a fresh Git repository. Reports p50/p95 of
GET entity, search and graph over HTTP on loopback (one keep-alive client), the latency
of POST (validate, write, commit, index update), and the time from sending a POST until
search finds the new entity.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.benchmarks import synth
from tests.support.runner_process import RunnerProcess, git, make_catalog_repo


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1000
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   (n={len(ordered)})"


def timed(call: Callable[[], httpx.Response], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


def service(name: str, owner: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "owner": owner, "description": "benchmark write"},
            "spec": {"type": "backend", "lifecycle": "development"}}


def pick(client: httpx.Client) -> tuple[str, str, str]:
    """A Service to read and a Team to own new entities, from the served catalog."""
    services = client.get("/api/v1/entities/service").json()
    teams = client.get("/api/v1/entities/team").json()
    target = services[len(services) // 2]["metadata"]
    default_teams = [t for t in teams if t["metadata"]["namespace"] == "default"]
    return target["name"], target["namespace"], default_teams[0]["metadata"]["name"]


def run(entities: int | None, requests: int, writes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gantry-bench-") as scratch:
        base = Path(scratch)
        catalog_source = None
        if entities:
            catalog_source = base / "synthetic"
            synth.generate(catalog_source, entities)
        repo = make_catalog_repo(base / "repo", catalog=catalog_source)
        label = f"{entities} synthetic entities" if entities else "the example catalog"
        print(f"runner on {label} ({git(repo, 'rev-parse', '--short', 'HEAD').strip()})")
        started = time.perf_counter()
        with RunnerProcess(repo / "catalog", base / "data", startup_timeout=1800) as runner:
            print(f"start (index + site)     {time.perf_counter() - started:8.2f} s")
            with runner.client() as client:
                name, namespace, owner = pick(client)
                path = f"/api/v1/entities/service/{name}"
                params = {"namespace": namespace}
                client.get(path, params=params)
                print("GET entity             ", percentiles(
                    timed(lambda: client.get(path, params=params), requests)))
                word = name.split("-")[0]
                print(f"search {word!r:16}", percentiles(timed(
                    lambda: client.get("/api/v1/search", params={"q": word}), requests)))
                print("graph depth 3          ", percentiles(timed(
                    lambda: client.get(f"/api/v1/graph/service/{name}",
                                       params={**params, "depth": 3}), requests // 4 or 1)))
                posts, visible = [], []
                for index in range(writes):
                    new_name = f"bench-write-{index}"
                    sent = time.perf_counter()
                    response = client.post("/api/v1/entities", json=service(new_name, owner))
                    posts.append(time.perf_counter() - sent)
                    if response.status_code != 201:
                        raise SystemExit(f"write failed: {response.status_code} {response.text}")
                    while not any(hit["name"] == new_name for hit in client.get(
                            "/api/v1/search", params={"q": new_name}).json()):
                        time.sleep(0.005)
                    visible.append(time.perf_counter() - sent)
                print("POST entity            ", percentiles(posts))
                print("write -> searchable    ", percentiles(visible))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--writes", type=int, default=20)
    args = parser.parse_args(argv)
    run(args.entities, args.requests, args.writes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
