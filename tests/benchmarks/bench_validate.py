"""How fast `gantry validate` is, against reading and parsing alone and against check-jsonschema.

On a synthetic catalog of 10k entities (seed 1) it measures, in one run:
- read+parse: every file read and parsed with `yaml.load_all(..., CSafeLoader)`, same process;
- validate: `SchemaRegistry()` plus `validate_catalog()` in the same process (what the command
  does after start-up), and the `gantry validate` command as a subprocess;
- check-jsonschema: `check-jsonschema --schemafile <combined schema>` over the same files, one
  invocation (in batches only if the command line would be too long), as a subprocess;
and on 100k entities, the `gantry validate` command's time and peak memory (ru_maxrss of a
dedicated child process). In-process figures are the best of three runs.

`python -m tests.benchmarks.bench_validate [--entities N] [--large N] [--format backstage]`;
`--large 0` skips the large catalog; `--format backstage` measures a catalog in Backstage's
descriptor format instead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from generator.load import catalog_files
from generator.structure.kinds import SchemaRegistry
from generator.validate import validate_catalog

from .synth import generate

BIN = Path(sys.executable).parent
REPEATS = 3

_CHILD = """
import json, resource, sys, time
started = time.perf_counter()
from generator.structure.kinds import SchemaRegistry
from generator.validate import validate_catalog
result = validate_catalog(sys.argv[1], SchemaRegistry())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "entities": len(result.entities),
                  "problems": len(result.problems), "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "maxrss_mb": usage.ru_maxrss / 1024}))
"""


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _best(function, repeats: int = REPEATS) -> tuple[float, float]:
    """Best wall time and best CPU time of `repeats` runs.

    CPU time is reported beside wall time because on a shared machine other work stretches
    wall time but not the CPU time a run needs.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), _cpu()
        function()
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu() - cpu)
    return min(walls), min(cpus)


def read_and_parse(root: Path, files: list[str]) -> None:
    """The floor: read every file and parse it with PyYAML's C loader, nothing more."""
    for relpath in files:
        list(yaml.load_all((root / relpath).read_bytes(), Loader=yaml.CSafeLoader))


def validate(root: Path) -> int:
    result = validate_catalog(root, SchemaRegistry())
    if result.problems:
        raise RuntimeError(f"synthetic catalog has problems: {result.problems[:3]}")
    return len(result.entities)


def _batches(paths: list[str], fixed: list[str]) -> list[list[str]]:
    """Split `paths` so each command line stays well under the system's limit."""
    limit = min(os.sysconf("SC_ARG_MAX") // 2, 1_000_000)
    batches: list[list[str]] = [[]]
    size = sum(len(part) + 1 for part in fixed)
    for path in paths:
        if size + len(path) + 1 > limit and batches[-1]:
            batches.append([])
            size = sum(len(part) + 1 for part in fixed)
        batches[-1].append(path)
        size += len(path) + 1
    return batches


def check_jsonschema(root: Path, files: list[str], schema: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds for check-jsonschema over every file, and its invocations."""
    fixed = [str(BIN / "check-jsonschema"), "--schemafile", str(schema)]
    batches = _batches(files, fixed)
    started, cpu = time.perf_counter(), _cpu()
    for batch in batches:
        done = subprocess.run([*fixed, *batch], cwd=root, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"check-jsonschema failed: {done.stdout[-500:]}"
                               f"{done.stderr[-500:]}")
    return time.perf_counter() - started, _cpu() - cpu, len(batches)


def run_command(root: Path) -> None:
    """The `gantry validate` command, start-up included."""
    done = subprocess.run([str(BIN / "gantry"), "validate", str(root)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"gantry validate failed: {done.stdout[-500:]}{done.stderr[-500:]}")


def large(root: Path, entities: int, fmt: str = "gantry") -> dict:
    """Validate a large catalog in a child process and read its peak memory."""
    started = time.perf_counter()
    generate(root, entities, seed=1, fmt=fmt)
    generated = time.perf_counter() - started
    done = subprocess.run([sys.executable, "-c", _CHILD, str(root)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2])
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    figures = json.loads(done.stdout)
    figures["generate_seconds"] = generated
    return figures


def run(entities: int = 10_000, large_entities: int = 100_000, fmt: str = "gantry") -> dict:
    """Every figure, as a dict (also printed)."""
    figures: dict = {"entities": entities, "cpus": os.cpu_count(), "format": fmt}
    with tempfile.TemporaryDirectory(prefix="gantry-bench-") as tmp:
        root = Path(tmp) / "catalog"
        started = time.perf_counter()
        generate(root, entities, seed=1, fmt=fmt)
        figures["generate_seconds"] = time.perf_counter() - started
        files = catalog_files(root)
        schema = Path(tmp) / "catalog.schema.json"
        schema.write_text(json.dumps(SchemaRegistry().combined()))
        read_and_parse(root, files)  # warm the page cache for every contender
        figures["parse"] = _best(lambda: read_and_parse(root, files))
        figures["validate"] = _best(lambda: validate(root))
        figures["command"] = _best(lambda: run_command(root))
        wall, cpu, figures["check_jsonschema_invocations"] = check_jsonschema(root, files,
                                                                               schema)
        figures["check_jsonschema"] = (wall, cpu)
        if large_entities:
            figures["large"] = large(Path(tmp) / "large", large_entities, fmt)
    figures["ratio_to_parse"] = tuple(v / p for v, p in zip(figures["validate"],
                                                            figures["parse"], strict=True))
    figures["speedup_vs_check_jsonschema"] = tuple(
        c / g for c, g in zip(figures["check_jsonschema"], figures["command"], strict=True))
    return figures


def _pair(figure: tuple[float, float], unit: str = "s") -> str:
    wall, cpu = figure
    return f"{wall:7.2f}{unit} wall {cpu:7.2f}{unit} CPU"


def report(figures: dict) -> None:
    n = figures["entities"]
    print(f"catalog: {n} synthetic entities ({figures['format']} format, seed 1), generated in "
          f"{figures['generate_seconds']:.1f}s; {figures['cpus']} CPUs")
    print(f"read+parse (CSafeLoader, in process): {_pair(figures['parse'])}")
    print(f"validate_catalog (in process):        {_pair(figures['validate'])}")
    print(f"  ratio to read+parse:                {_pair(figures['ratio_to_parse'], 'x')}"
          "  (goal <= 1.5x)")
    print(f"gantry validate (command):            {_pair(figures['command'])}")
    print(f"check-jsonschema (command, {figures['check_jsonschema_invocations']} run):   "
          f"{_pair(figures['check_jsonschema'])}")
    print(f"  gantry validate is faster by:       "
          f"{_pair(figures['speedup_vs_check_jsonschema'], 'x')}  (goal >= 5x)")
    big = figures.get("large")
    if big:
        print(f"large: {big['entities']} entities validated in {big['seconds']:.1f}s wall, "
              f"{big['cpu_seconds']:.1f}s CPU (imports included), peak memory "
              f"{big['maxrss_mb']:.0f} MB (goal < 1536 MB), {big['problems']} problems")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_validate")
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--format", dest="fmt", choices=("gantry", "backstage"),
                        default="gantry")
    args = parser.parse_args(argv)
    report(run(args.entities, args.large, args.fmt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
