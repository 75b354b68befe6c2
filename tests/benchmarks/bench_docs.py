"""Docs rendering speed: 1,000 Markdown pages across 100 entities, built cold (pages,
search index included) and again with nothing changed, one page edited, and the largest
docs page.

Targets: cold ≤ 10 s, unchanged ≤ 0.5 s, largest docs page < 100 KB of HTML.
Run with `python -m tests.benchmarks.bench_docs [--entities 100 --pages 10]`.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from generator.index.build import build_index
from generator.site.build import build_site

COLD_TARGET = 10.0
UNCHANGED_TARGET = 0.5
PAGE_LIMIT = 100 * 1024
WORDS = ("deploy rollback latency queue settlement payment ledger replica cache shard "
         "token retry budget alert dashboard incident owner release canary migration").split()

TEAM = """apiVersion: gantry.io/v1
kind: Team
metadata:
  name: docs-team
spec:
  members: []
"""


def _prose(rng: random.Random, sentences: int) -> str:
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."
                    for _ in range(sentences))


def _page(rng: random.Random, number: int, pages: int, big: bool) -> str:
    """A page like a real runbook: headings, prose, a table, code, an admonition, links."""
    parts = [f"# Page {number}\n", _prose(rng, 4), ""]
    for section in range(12 if big else 4):
        parts += [f"## Section {section}\n", _prose(rng, 6), "",
                  "| Step | Command | Notes |", "|---|---|---|"]
        parts += [f"| {row} | `kubectl rollout restart deploy/svc-{row}` | {_prose(rng, 1)} |"
                  for row in range(8)]
        parts += ["", "```python", "def handler(event):",
                  "    for item in event['items']:", "        retry(item, budget=3)",
                  "```", "", "!!! warning \"Careful\"", f"    {_prose(rng, 2)}", "",
                  f"See [page {(number + 1) % pages}](page-{(number + 1) % pages}.md) and "
                  f"[the index](index.md#section-0).", ""]
    return "\n".join(parts)


def make_catalog(root: Path, entities: int, pages: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    (root / "Team").mkdir(parents=True)
    (root / "Team" / "docs-team.yaml").write_text(TEAM)
    (root / "Service").mkdir()
    for number in range(entities):
        name = f"svc-{number:03d}"
        (root / "Service" / f"{name}.yaml").write_text(
            f"apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: {name}\n"
            f"  owner: docs-team\n  docs:\n    path: ../docs/{name}\n"
            "spec:\n  type: backend\n  lifecycle: production\n")
        folder = root / "docs" / name
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(_page(rng, 0, pages, number == 0))
        for page in range(1, pages):
            (folder / f"page-{page}.md").write_text(_page(rng, page, pages, False))


def _cpu_seconds() -> float:
    """User and system time of this process and its finished children (pool, pagefind)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(entities: int, pages: int, work: Path) -> dict:
    catalog = work / "catalog"
    make_catalog(catalog, entities, pages)
    index = work / "catalog.duckdb"
    build_index(catalog, index)
    site = work / "site"
    cpu = _cpu_seconds()
    cold = build_site(index, catalog, site)
    cpu = _cpu_seconds() - cpu
    unchanged = build_site(index, catalog, site)
    edited_file = catalog / "docs" / "svc-042" / "page-3.md"
    edited_file.write_text(edited_file.read_text() + "\nOne more line.\n")
    started = time.perf_counter()
    edited = build_site(index, catalog, site)
    edited_seconds = time.perf_counter() - started
    sizes = [path.stat().st_size for path in site.glob("catalog/*/*/*/docs/**/index.html")]
    markdown = sum(p.stat().st_size for p in (catalog / "docs").rglob("*.md"))
    return {"cold": cold.seconds, "search": cold.search_seconds, "cpu": cpu,
            "markdown_kb": markdown / 1024,
            "unchanged": unchanged.seconds, "skipped": unchanged.skipped,
            "edited": edited_seconds, "edited_entities": len(edited.docs_rendered or []),
            "pages": len(sizes), "max_page": max(sizes)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_docs")
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--pages", type=int, default=10, help="Markdown pages per entity")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gantry-bench-docs-") as folder:
        r = _measure(args.entities, args.pages, Path(folder))
    checks = [("cold", r["cold"], COLD_TARGET), ("unchanged", r["unchanged"], UNCHANGED_TARGET),
              ("page", r["max_page"], PAGE_LIMIT)]
    verdicts = [f"{name} {'ok' if value <= limit else 'MISSED'}"
                for name, value, limit in checks]
    print(f"docs {r['pages']} pages / {args.entities} entities "
          f"({r['markdown_kb'] / 1024:.1f} MB of Markdown): cold {r['cold']:.2f}s "
          f"(pagefind {r['search']:.2f}s, {r['cpu']:.1f} CPU-s), unchanged {r['unchanged']:.3f}s "
          f"(skipped={r['skipped']}), one page edited {r['edited']:.2f}s "
          f"({r['edited_entities']} folder re-rendered), largest docs page "
          f"{r['max_page'] / 1024:.1f} KB; " + ", ".join(verdicts))
    return 1 if any("MISSED" in verdict for verdict in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
