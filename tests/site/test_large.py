"""A catalog large enough for the process pools (pages and search built side by side)."""

from __future__ import annotations

import json

from generator.index.build import build_index
from generator.site.build import POOL_THRESHOLD, build_site
from tests.benchmarks.synth import generate


def test_large_catalog_builds_in_parallel(tmp_path):
    size = POOL_THRESHOLD + 200
    catalog = tmp_path / "catalog"
    generate(catalog, size, seed=3)
    index = tmp_path / "catalog.duckdb"
    build_index(catalog, index)
    site = tmp_path / "site"
    stats = build_site(index, catalog, site)
    assert stats.entity_pages == size and stats.search_indexed
    pages = list((site / "catalog").glob("*/*/*/index.html"))
    assert len(pages) == size
    assert max(p.stat().st_size for p in pages) == stats.max_entity_page_bytes <= 60 * 1024
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())
    assert sum(language["page_count"] for language in entry["languages"].values()) == size
    assert build_site(index, catalog, site).skipped
