"""The synthetic catalog generator used by benchmarks and large tests."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from generator.validate import validate_catalog
from tests.benchmarks.__main__ import available
from tests.benchmarks.__main__ import main as run_benchmarks
from tests.benchmarks.synth import generate

from .conftest import shared_registry


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.yaml")}


def test_synthetic_catalog_is_valid_and_realistic(tmp_path: Path) -> None:
    generate(tmp_path, 1000, seed=7)
    result = validate_catalog(tmp_path, shared_registry())
    assert result.problems == []
    assert len(result.entities) == 1000
    kinds = Counter(entity.kind for entity in result.entities)
    assert kinds["Team"] == 20
    assert kinds["API"] == 100
    assert kinds["Infrastructure"] == 150
    assert kinds["Documentation"] == 50
    assert 1 <= kinds["Environment"] <= 8
    assert 1 <= kinds["Action"] <= 12
    assert kinds["Service"] == 1000 - sum(v for k, v in kinds.items() if k != "Service")
    assert len({entity.namespace for entity in result.entities}) >= 3
    for entity in result.entities:
        assert entity.path == f"{entity.kind}/{entity.namespace}/{entity.name}.yaml"
    edges = Counter()
    for entity in result.entities:
        spec = entity.spec
        edges.update(key for key in ("dependsOn", "deployedIn", "providesApis", "consumesApis",
                                     "relatedTo") if spec.get(key))
        edges.update(["owner"] if entity.metadata.get("owner") else [])
    assert all(edges[key] > 0 for key in ("dependsOn", "deployedIn", "providesApis",
                                          "consumesApis", "relatedTo", "owner"))


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", 300, seed=3)
    generate(tmp_path / "b", 300, seed=3)
    generate(tmp_path / "c", 300, seed=4)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")


def test_small_catalogs_are_exact(tmp_path: Path) -> None:
    for size in (0, 1, 2, 5, 37):
        generate(tmp_path / str(size), size)
        assert len(list((tmp_path / str(size)).rglob("*.yaml"))) == size
        assert validate_catalog(tmp_path / str(size), shared_registry()).problems == []


def test_command_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.synth", str(tmp_path / "out"),
                           "--entities", "50", "--seed", "2"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.returncode == 0, done.stderr
    assert "wrote 50 entities" in done.stderr
    assert len(list((tmp_path / "out").rglob("*.yaml"))) == 50


def test_benchmark_runner_lists_and_refuses_unknown_names(capsys) -> None:
    assert "validate" in available()
    assert run_benchmarks(["no-such-benchmark"]) == 2
    assert "unknown benchmark(s): no-such-benchmark; available:" in capsys.readouterr().err
