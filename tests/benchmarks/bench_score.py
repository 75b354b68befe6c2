"""Benchmark of scorecards: scoring at build, re-scoring after one write, `gantry score --base`.

`python -m tests.benchmarks score` (or `python -m tests.benchmarks.bench_score [--large N]
[--small N]`). The synthetic catalogs are real Git repositories (tests/benchmarks/synth.py)
with one Scorecard of 20 rules added: field, relation, annotation, link, Git and SQL checks.

- scoring at build: `score_all` over the built index of `--large` entities (what
  `gantry build` adds for scorecards), median of 3;
- one write re-scored: `update_files` of one edited file through an open connection, as the
  runner calls it, and the `rescore` part of it alone, median of 7;
- `gantry score --base HEAD` on `--small` entities with one changed file, index up to date,
  median of 3 (a process each, as in CI).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from generator.index.build import build_index
from generator.score.evaluate import rescore, score_all
from tests.benchmarks.bench_index import Report, _git, make_repository
from tests.benchmarks.synth import to_yaml

GANTRY = Path(sys.executable).with_name("gantry")

RULES = [
    {"id": "described", "level": "Bronze", "field": {"path": "metadata.description",
                                                      "exists": True}},
    {"id": "titled", "level": "Bronze", "field": {"path": "metadata.title", "exists": True}},
    {"id": "owned", "level": "Bronze", "weight": 2, "relation": {"type": "ownedBy"}},
    {"id": "typed", "level": "Bronze", "field": {"path": "spec.type", "exists": True}},
    {"id": "lifecycle", "level": "Bronze", "field": {
        "path": "spec.lifecycle", "oneOf": ["production", "development", "experimental"]}},
    {"id": "not-deprecated", "level": "Silver", "field": {
        "path": "spec.lifecycle", "matches": "^(production|development|experimental)$"}},
    {"id": "backend", "level": "Silver", "field": {"path": "spec.type", "equals": "backend"}},
    {"id": "tagged", "level": "Silver", "field": {"path": "metadata.tags", "atLeast": 1}},
    {"id": "depends", "level": "Silver", "relation": {"type": "dependsOn"}},
    {"id": "deployed", "level": "Silver", "relation": {"type": "deployedIn",
                                                       "kind": "Environment"}},
    {"id": "provides", "level": "Silver", "relation": {"type": "providesApi"}},
    {"id": "documented", "level": "Gold", "relation": {"type": "documents",
                                                       "direction": "incoming"}},
    {"id": "slug", "level": "Gold", "annotation": "github.com/project-slug"},
    {"id": "linked", "level": "Gold", "link": {"matches": "."}},
    {"id": "runbook", "level": "Gold", "link": {"matches": "(?i)runbook"}},
    {"id": "fresh", "level": "Gold", "git": {"committedWithinDays": 365}},
    {"id": "authors", "level": "Gold", "git": {"authorsAtLeast": 2}},
    {"id": "sql-deps", "level": "Gold", "sql": (
        "SELECT source AS ref, count(*) <= 8 AS passed, count(*) || ' dependencies' AS reason "
        "FROM relations WHERE type = 'dependsOn' GROUP BY source")},
    {"id": "sql-name", "level": "Gold", "sql": (
        "SELECT ref, length(name) <= 40 AS passed, 'name of ' || length(name) || "
        "' characters' AS reason FROM entities")},
    {"id": "sql-owner", "level": "Gold", "sql": (
        "SELECT e.ref, t.ref IS NOT NULL AS passed, coalesce(e.owner, 'no owner') AS reason "
        "FROM entities e LEFT JOIN entities t ON t.kind = 'Team' AND t.name = e.owner")},
]


def scorecard_yaml() -> str:
    return to_yaml({"apiVersion": "gantry.io/v1", "kind": "Scorecard",
                    "metadata": {"name": "bench", "title": "Benchmark card"},
                    "spec": {"appliesTo": {"kinds": ["Service", "API", "Infrastructure"]},
                             "levels": [{"name": "Bronze"}, {"name": "Silver"},
                                        {"name": "Gold"}],
                             "rules": [{"title": rule["id"], **rule} for rule in RULES]}})


def repository(folder: Path, entities: int) -> Path:
    catalog = make_repository(folder, entities)
    card = catalog / "Scorecard" / "bench.yaml"
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(scorecard_yaml())
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "scorecard")
    return catalog


def scoring_seconds(index: Path) -> tuple[float, int]:
    laps, rows = [], 0
    for _ in range(3):
        con = duckdb.connect(str(index))
        try:
            started = time.perf_counter()
            rows = score_all(con)
            laps.append(time.perf_counter() - started)
        finally:
            con.close()
    return statistics.median(laps), rows


def write_laps(catalog: Path, out: Path) -> tuple[float, float]:
    """Median milliseconds of a one-file update (Git, index, re-score) and of its re-score."""
    from generator.index.incremental import update_files
    from generator.index.search import warm

    con = duckdb.connect(str(out / "catalog.duckdb"))
    warm(con)
    rel, ref = con.execute("SELECT path, ref FROM entities WHERE kind = 'Service' "
                           "ORDER BY path LIMIT 1 OFFSET 100").fetchone()
    victim = catalog / rel
    original = victim.read_text()
    updates, scoring = [], []
    try:
        for round_ in range(7):
            victim.write_text(original.replace("description: ", f"description: v{round_} ", 1))
            started = time.perf_counter()
            update_files(out, catalog, [rel], con=con)
            updates.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            rescore(con, {ref})
            scoring.append((time.perf_counter() - started) * 1000)
    finally:
        victim.write_text(original)
        update_files(out, catalog, [rel], con=con)
        con.close()
    return statistics.median(updates), statistics.median(scoring)


def base_seconds(catalog: Path, out: Path) -> float:
    victim = next(p for p in sorted(catalog.rglob("*.yaml")) if "kind: Service" in p.read_text())
    original = victim.read_text()
    laps = []
    try:
        victim.write_text(original.replace("description: ", "description: changed ", 1))
        build_index(catalog, out)  # up to date with the change, as after `gantry build`
        for _ in range(3):
            started = time.perf_counter()
            done = subprocess.run([str(GANTRY), "score", str(catalog), "--out", str(out),
                                   "--base", "HEAD", "--format", "json"],
                                  cwd=catalog.parent, capture_output=True, text=True)
            laps.append(time.perf_counter() - started)
            assert done.returncode in (0, 1), done.stderr
    finally:
        victim.write_text(original)
    return statistics.median(laps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args(argv)
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="gantry-bench-score-"))
    try:
        catalog = repository(work / "large", args.large)
        out = work / "large-out"
        started = time.perf_counter()
        build_index(catalog, out)
        print(f"large catalog: {args.large} entities, index built in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        seconds, rows = scoring_seconds(out / "catalog.duckdb")
        print(f"  {len(RULES)} rules, {rows} results", flush=True)
        report.add(f"scoring at build, {len(RULES)} rules, {args.large} entities", seconds,
                   "s", 5)
        print(f"  scoring at build: {seconds:.2f} s", flush=True)
        update_ms, rescore_ms = write_laps(catalog, out)
        print(f"  one write: update {update_ms:.0f} ms, re-score {rescore_ms:.0f} ms", flush=True)
        report.add(f"one write re-scored at {args.large} (re-score alone)", rescore_ms, "ms",
                   50)
        report.add(f"one write at {args.large}: update_files with re-score", update_ms, "ms",
                   150)
        shutil.rmtree(work / "large", ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

        small = repository(work / "small", args.small)
        report.add(f"gantry score --base HEAD, {args.small} entities, one change",
                   base_seconds(small, work / "small-out"), "s", 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
