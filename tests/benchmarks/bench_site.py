"""Site build speed: cold build at 10k and 100k entities (search index included), an
unchanged rebuild, a one-file incremental rebuild, and the largest entity page.

Targets: cold 10k ≤ 10 s, cold 100k ≤ 120 s, unchanged 10k ≤ 1 s, entity page ≤ 60 KB.
Run with `python -m tests.benchmarks.bench_site [--sizes 10000,100000]`.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from generator.index.build import build_index
from generator.site.build import build_site
from tests.benchmarks.synth import generate

TARGETS = {10_000: 10.0, 100_000: 120.0}
UNCHANGED_TARGET = 1.0
PAGE_LIMIT = 60 * 1024


def _cpu_seconds() -> float:
    """User and system time of this process and its finished children (pool, pagefind)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(size: int, work: Path) -> dict:
    catalog = work / "catalog"
    generate(catalog, size, seed=7)
    index = work / "catalog.duckdb"
    started = time.perf_counter()
    build_index(catalog, index)
    index_seconds = time.perf_counter() - started
    site = work / "site"
    cpu = _cpu_seconds()
    cold = build_site(index, catalog, site)
    cpu = _cpu_seconds() - cpu
    unchanged = build_site(index, catalog, site)
    return {"size": size, "index": index_seconds, "cold": cold.seconds,
            "render": cold.render_seconds, "cpu": cpu, "search": cold.search_seconds,
            "unchanged": unchanged.seconds, "max_page": cold.max_entity_page_bytes,
            "max_ref": cold.max_entity_page_ref, "pages": cold.entity_pages}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_site")
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated catalog sizes (default 10000,100000)")
    args = parser.parse_args(argv)
    failed = False
    for size in (int(s) for s in args.sizes.split(",") if s):
        with tempfile.TemporaryDirectory(prefix="gantry-bench-site-") as folder:
            r = _measure(size, Path(folder))
        target = TARGETS.get(size)
        checks = [("cold", r["cold"], target), ("page", r["max_page"], PAGE_LIMIT)]
        if size <= 10_000:
            checks.append(("unchanged", r["unchanged"], UNCHANGED_TARGET))
        verdicts = []
        for name, value, limit in checks:
            ok = limit is None or value <= limit
            failed |= not ok
            verdicts.append(f"{name} {'ok' if ok else 'MISSED'}")
        print(f"site {size:>7} entities: index {r['index']:.1f}s, cold site {r['cold']:.1f}s "
              f"(render {r['render']:.1f}s, pagefind {r['search']:.1f}s, {r['cpu']:.0f} CPU-s; "
              f"target {target or '-'}s), "
              f"unchanged {r['unchanged']:.2f}s, "
              f"largest entity page {r['max_page'] / 1024:.1f} KB ({r['max_ref']}); "
              + ", ".join(verdicts))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
