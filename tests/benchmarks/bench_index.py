"""Benchmark of the DuckDB index: cold build, no-change rebuild, incremental update, search
and graph latency, on synthetic catalogs that are real Git repositories.

`python -m tests.benchmarks index` (or `python -m tests.benchmarks.bench_index
[--small N] [--large N] [--keep DIR]`). Cold builds run in a fresh process each, so peak
memory (max RSS) is the build's own; they include validation and the Git metadata pass,
as `gantry build` does. Targets come from the project's requirements; a missed target is
reported, not raised.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.synth import generate

ROOT = Path(__file__).resolve().parents[2]

COLD_BUILD = """
import json, os, resource, sys, time
from pathlib import Path
from generator.validate import validate_catalog
from generator.index.build import build_index
catalog, out = Path(sys.argv[1]), Path(sys.argv[2])
started, cpu = time.perf_counter(), time.process_time()
validation = validate_catalog(catalog, workers=os.cpu_count() or 1)  # as `gantry build`
validated = time.perf_counter()
stats = build_index(catalog, out, validation=validation)
print(json.dumps({"seconds": time.perf_counter() - started,
                  "validate_seconds": validated - started,
                  "index_seconds": time.perf_counter() - validated,
                  "cpu_seconds": time.process_time() - cpu,
                  "entities": stats.entities, "relations": stats.relations,
                  "problems": len(validation.problems),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

QUERIES = ["payment", "pay", "payment api", "payment-api", "Payment", "ledger", "checkout-web",
           "fraud", "order service", "kafka", "python", "critical", "platform team", "ship",
           "notification-scheduler", "refund worker", "geo", "tier-1", "invoice-api", "ment",
           "search indexer", "zzz-nothing", "billing", "auth gateway", "email"]


def _git(repo: Path, *args: str, author: str = "Bench") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author}@example.com",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": f"{author}@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo, env=env, check=True,
                   capture_output=True)


def make_repository(folder: Path, entities: int) -> Path:
    """A Git repository holding a synthetic catalog, with a few commits and a rename."""
    catalog = folder / "catalog"
    generate(catalog, entities, seed=7)
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "catalog", author="alice")
    files = sorted(catalog.rglob("*.yaml"))
    for path in files[:: max(1, len(files) // 50)]:
        path.write_text(path.read_text() + "# reviewed\n")
    _git(folder, "commit", "-q", "-am", "review", author="bob")
    moved = files[1]
    _git(folder, "mv", str(moved), str(moved.with_name("renamed-" + moved.name)))
    _git(folder, "commit", "-q", "-m", "rename", author="carol")
    return catalog


def cold_build(catalog: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", COLD_BUILD, str(catalog), str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, bool]] = []

    def add(self, name: str, value: float, unit: str, target: float) -> None:
        self.rows.append((name, f"{value:.3f} {unit}" if unit == "s" else f"{value:.1f} {unit}",
                          f"≤ {target:g} {unit}", value <= target))

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        for name, value, target, ok in self.rows:
            print(f"  {name.ljust(width)}  {value:>12}  {target:>10}  {'ok' if ok else 'MISSED'}")


def incremental_laps(catalog: Path, out: Path, keep_open: bool
                     ) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of one-file updates: a title edited seven times.

    `keep_open`: through one open connection, as the runner calls it (with the word index
    warm, so carrying it forward is included); otherwise each update opens the index.
    """
    import duckdb

    from generator.index.incremental import update_files
    from generator.index.search import warm

    files = sorted(catalog.rglob("*.yaml"))
    victim = files[len(files) // 2]
    rel = victim.relative_to(catalog).as_posix()
    original = victim.read_text()
    con = duckdb.connect(str(out / "catalog.duckdb")) if keep_open else None
    if con is not None:
        warm(con)
    laps: list[float] = []
    cpu: list[float] = []
    try:
        for round_ in range(7):
            victim.write_text(original.replace("title: ", f"title: Edit {round_} ", 1))
            started, cpu_started = time.perf_counter(), _cpu()
            update_files(out, catalog, [rel], con=con)
            laps.append((time.perf_counter() - started) * 1000)
            cpu.append((_cpu() - cpu_started) * 1000)
    finally:
        victim.write_text(original)
        update_files(out, catalog, [rel], con=con)
        if con is not None:
            con.close()
    return laps, cpu


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git), all threads."""
    own = time.process_time()
    children = os.times()
    return own + children.children_user + children.children_system


def query_laps(index: Path) -> dict[str, list[float]]:
    """Wall and CPU milliseconds per search (the query mix, 8 rounds, after a first query that
    loads the word index) and per depth-3 graph (150 refs, after one warm-up walk that loads
    the adjacency), and graph sizes."""
    from generator.index.cache import clear
    from generator.index.graph import graph
    from generator.index.schema import open_index
    from generator.index.search import search

    con = open_index(index)
    try:
        found: dict[str, list[float]] = {key: [] for key in (
            "search", "search_cpu", "graph", "graph_cpu", "sizes", "graph_load", "search_load")}
        clear()  # the updates before carried the word index forward: measure a load
        started = time.perf_counter()
        search(con, QUERIES[0])
        found["search_load"].append(time.perf_counter() - started)
        for query in QUERIES[1:3]:
            search(con, query)
        for _ in range(8):
            for query in QUERIES:
                started, cpu_started = time.perf_counter(), _cpu()
                search(con, query)
                found["search"].append((time.perf_counter() - started) * 1000)
                found["search_cpu"].append((_cpu() - cpu_started) * 1000)
        refs = [r[0] for r in con.execute("SELECT ref FROM entities ORDER BY ref").fetchall()]
        started = time.perf_counter()
        graph(con, refs[0])
        found["graph_load"].append(time.perf_counter() - started)
        for ref in random.Random(3).sample(refs, 150):
            started, cpu_started = time.perf_counter(), _cpu()
            found["sizes"].append(len(graph(con, ref, depth=3)["nodes"]))
            found["graph"].append((time.perf_counter() - started) * 1000)
            found["graph_cpu"].append((_cpu() - cpu_started) * 1000)
        return found
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_index")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args(argv or [])
    from generator.index.build import build_index

    work = args.keep or Path(tempfile.mkdtemp(prefix="gantry-bench-index-"))
    report = Report()
    print(f"  load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        for size in (args.small, args.large):
            folder = work / f"repo-{size}"
            if not (folder / "catalog").is_dir():
                started = time.perf_counter()
                make_repository(folder, size)
                print(f"  generated {size} entities in {time.perf_counter() - started:.1f}s")
            catalog, out = folder / "catalog", work / f"out-{size}"
            shutil.rmtree(out, ignore_errors=True)
            runs = []
            for _ in range(3 if size == args.small else 1):  # a few seconds each: take three
                shutil.rmtree(out, ignore_errors=True)
                runs.append(cold_build(catalog, out))
            cold = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
            print(f"  cold build {size}: " + json.dumps(
                {k: round(v, 3) if isinstance(v, float) else v for k, v in cold.items()}))
            if size == args.small:
                report.add(f"cold build, {size} entities (median of 3)", cold["seconds"], "s", 5)
                laps, cpu = [], []
                for _ in range(5):
                    started, cpu_started = time.perf_counter(), _cpu()
                    build_index(catalog, out)
                    laps.append(time.perf_counter() - started)
                    cpu.append(_cpu() - cpu_started)
                report.add(f"no-change rebuild, {size} (median of 5)",
                           statistics.median(laps), "s", 0.5)
                print(f"  no-change rebuild CPU median {statistics.median(cpu):.3f} s")
                continue
            report.add(f"cold build, {size} entities", cold["seconds"], "s", 60)
            report.add(f"cold build peak memory, {size}", cold["max_rss_mb"], "MB", 1536)
            laps, cpu = incremental_laps(catalog, out, keep_open=True)
            report.add(f"one-file incremental update, {size} (median of 7)",
                       statistics.median(laps), "ms", 100)
            print(f"  incremental CPU median {statistics.median(cpu):.1f} ms (git included)")
            laps, _ = incremental_laps(catalog, out, keep_open=False)
            print(f"  incremental update opening and closing the index each time: median "
                  f"{statistics.median(laps):.1f} ms")
            found = query_laps(out / "catalog.duckdb")
            report.add(f"search p95, {size} ({len(found['search'])} queries)",
                       percentile(found["search"], 0.95), "ms", 15)
            report.add(f"graph depth 3 p95, {size} (150 entities)",
                       percentile(found["graph"], 0.95), "ms", 20)
            print(f"  first search (word index load) {found['search_load'][0]:.2f} s")
            print(f"  search p50 {percentile(found['search'], 0.5):.1f} ms, CPU p50 "
                  f"{percentile(found['search_cpu'], 0.5):.1f} ms, CPU p95 "
                  f"{percentile(found['search_cpu'], 0.95):.1f} ms")
            print(f"  graph p50 {percentile(found['graph'], 0.5):.1f} ms, CPU p50 "
                  f"{percentile(found['graph_cpu'], 0.5):.1f} ms, CPU p95 "
                  f"{percentile(found['graph_cpu'], 0.95):.1f} ms; first walk (adjacency "
                  f"load) {found['graph_load'][0]:.2f} s; nodes per graph median "
                  f"{statistics.median(found['sizes']):.0f}, max {max(found['sizes']):.0f}")
        print(f"  load average at end: {os.getloadavg()[0]:.1f}")
        report.print()
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
