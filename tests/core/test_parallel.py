"""Loading in forked workers gives exactly what loading in one process gives."""

from __future__ import annotations

from pathlib import Path

from generator.validate import validate_catalog
from generator.validate.catalog import PARALLEL_MIN_FILES
from tests.benchmarks.synth import generate


def test_workers_find_the_same_entities_and_problems(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    generate(catalog, PARALLEL_MIN_FILES + 100, seed=7)
    broken = sorted(catalog.rglob("*.yaml"))
    broken[10].write_text("apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: Bad/Name\n"
                          "spec:\n  type: backnd\n", encoding="utf-8")
    broken[-10].write_text("a: [1, 2\n", encoding="utf-8")

    single = validate_catalog(catalog, workers=1)
    parallel = validate_catalog(catalog, workers=2)

    assert len(single.problems) >= 3
    assert parallel.problems == single.problems
    assert [e.ref for e in parallel.entities] == [e.ref for e in single.entities]
    assert parallel.files == single.files
