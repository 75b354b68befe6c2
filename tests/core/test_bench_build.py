"""The whole-build benchmark at a smoke size: its catalog builds cleanly, and the real
`gantry build` it measures reports every step, its memory and its pages."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.bench_build import cold_build, make_catalog


def test_bench_build_measures_a_real_cold_build(tmp_path: Path):
    catalog = make_catalog(tmp_path, 300, docs=2)
    assert len(list(catalog.rglob("*.yaml"))) == 300
    result = cold_build(catalog, tmp_path / "out")
    phases = result["phases"]
    assert {"validation", "git metadata", "scoring", "entity pages", "docs pages",
            "search index", "total"} <= set(phases)
    assert 0 < phases["total"] <= result["wall"]
    assert result["tree_pss_mb"] > 0 and result["max_rss_mb"] > 0 and result["cpu"] > 0
    assert any("docs of 2 entities rendered" in line for line in result["summary"])
    pages = list((tmp_path / "out" / "site" / "catalog").glob("*/*/*/index.html"))
    assert len(pages) == 300
