"""The whole `gantry build`, cold, at 100k entities: wall time, peak memory, each step.

`python -m tests.benchmarks build` (or `python -m tests.benchmarks.bench_build
[--entities N] [--runs R] [--keep DIR]`). The catalog is made once: a synthetic catalog
(tests/benchmarks/synth.py) in a real Git repository with a few commits and a rename
(bench_index), the example catalog's scorecards and the 20-rule benchmark scorecard
(bench_score), and `--docs` Services with Markdown docs folders of 10 pages each
(bench_docs; page 0 also as index.md). Every run is the real command,
`gantry build --timings`, in its own process with a fresh output folder; its steps come
from `--timings`.

Memory is measured three ways, since pool workers are forked and share pages:
- `max RSS (one process)`: the largest resident set of any single process of the build,
  from `os.wait4` (the kernel's rusage of the child and its waited-for descendants, as
  `/usr/bin/time -v` reports it), Pagefind included;
- `tree RSS`: the peak of the summed resident sets of every process of the build (the
  command, its pool workers, `git` and Pagefind), sampled from /proc every 200 ms; pages
  shared by forked workers count once per process, so this over-states;
- `tree PSS`: the same sum of proportional set sizes (shared pages split between their
  sharers): the memory the build really occupies, and the figure the goal is held to.

Goal (issue "Speed"): ≤ 60 s wall and ≤ 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.benchmarks.bench_docs import _page
from tests.benchmarks.bench_index import _git, make_repository
from tests.benchmarks.bench_score import scorecard_yaml

ROOT = Path(__file__).resolve().parents[2]
GANTRY = Path(sys.executable).with_name("gantry")
WALL_TARGET = 60.0
MEMORY_TARGET_MB = 1024.0
DOCS_PAGES = 10
_TIMING = re.compile(r"^timing: (.+?)\s+([0-9.]+)s$")


def make_catalog(folder: Path, entities: int, docs: int) -> Path:
    """A Git repository of `entities` entities in all, scorecards and docs folders included."""
    cards = sorted((ROOT / "catalog" / "Scorecard").rglob("*.yaml"))
    extra = len(cards) + 1 + (docs + 1 if docs else 0)
    catalog = make_repository(folder, max(entities - extra, 0))
    card_folder = catalog / "Scorecard" / "default"
    card_folder.mkdir(parents=True, exist_ok=True)
    for card in cards:
        shutil.copyfile(card, card_folder / card.name)
    (card_folder / "bench.yaml").write_text(scorecard_yaml())
    if docs:
        _docs_services(catalog, docs)
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "scorecards and docs")
    return catalog


def _docs_services(catalog: Path, count: int) -> None:
    rng = random.Random(11)
    team = catalog / "Team" / "default" / "bench-docs-team.yaml"
    team.parent.mkdir(parents=True, exist_ok=True)
    team.write_text("apiVersion: gantry.io/v1\nkind: Team\nmetadata:\n  name: bench-docs-team\n"
                    "spec:\n  members: []\n")
    services = catalog / "Service" / "default"
    services.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        name = f"bench-docs-{number:03d}"
        (services / f"{name}.yaml").write_text(
            f"apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: {name}\n"
            f"  owner: bench-docs-team\n  docs:\n    path: ../../docs/{name}\n"
            "spec:\n  type: backend\n  lifecycle: production\n")
        pages = catalog / "docs" / name
        pages.mkdir(parents=True)
        first = _page(rng, 0, DOCS_PAGES, number == 0)
        (pages / "index.md").write_text(first)
        (pages / "page-0.md").write_text(first)  # the last page links to page 0
        for page in range(1, DOCS_PAGES):
            (pages / f"page-{page}.md").write_text(_page(rng, page, DOCS_PAGES, False))


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Peak summed RSS and PSS (kB) of a process and its descendants, every 200 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.peak_pss, self.peak_processes = pid, 0, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pids = _tree(self.pid)
            sizes = [_rss_pss_kb(pid) for pid in pids]
            self.peak_rss = max(self.peak_rss, sum(rss for rss, _ in sizes))
            self.peak_pss = max(self.peak_pss, sum(pss for _, pss in sizes))
            self.peak_processes = max(self.peak_processes, len(pids))
            self.done.wait(0.2)


def cold_build(catalog: Path, out: Path) -> dict:
    """One `gantry build --timings` into the new folder `out`, measured from outside."""
    started = time.perf_counter()
    process = subprocess.Popen([str(GANTRY), "build", "--catalog", str(catalog), "--out",
                                str(out), "--timings"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(process.pid)
    sampler.start()
    output: dict[str, str] = {}
    readers = [threading.Thread(target=lambda name=name, pipe=pipe: output.__setitem__(
        name, pipe.read())) for name, pipe in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    # wait4 reaps the command itself, so its rusage is this build's alone (its pool
    # workers, git and Pagefind included once they were waited for).
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    for reader in readers:
        reader.join()
    if process.returncode != 0:
        raise RuntimeError(f"gantry build failed ({process.returncode}): {output['err'][-2000:]}")
    phases = {}
    for line in output["err"].splitlines():
        match = _TIMING.match(line)
        if match:
            phases[match.group(1)] = float(match.group(2))
    return {"wall": wall, "phases": phases, "tree_rss_mb": sampler.peak_rss / 1024,
            "tree_pss_mb": sampler.peak_pss / 1024, "processes": sampler.peak_processes,
            "cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024,
            "summary": output["out"].strip().splitlines()}


def main(argv: list[str] | None = None) -> int:
    """Make the catalog, run cold builds; exit status 1 when a goal is missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_build")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--docs", type=int, default=20,
                        help=f"Services with a docs folder of {DOCS_PAGES} pages")
    parser.add_argument("--runs", type=int, default=2, help="cold builds to measure")
    parser.add_argument("--keep", type=Path, default=None,
                        help="make (or reuse) the catalog repository in this folder")
    args = parser.parse_args(argv)
    temporary = None
    if args.keep is None:
        temporary = tempfile.TemporaryDirectory(prefix="gantry-bench-build-")
        folder = Path(temporary.name)
    else:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    try:
        catalog = folder / "catalog"
        if not (folder / ".git").is_dir():
            started = time.perf_counter()
            make_catalog(folder, args.entities, args.docs)
            print(f"catalog of {args.entities} entities made in "
                  f"{time.perf_counter() - started:.0f}s", flush=True)
        missed = False
        for run in range(args.runs):
            out = folder / f"out-{run}"
            shutil.rmtree(out, ignore_errors=True)
            result = cold_build(catalog, out)
            load = os.getloadavg()[0]
            ok_wall = result["wall"] <= WALL_TARGET
            ok_memory = result["tree_pss_mb"] <= MEMORY_TARGET_MB
            missed |= not (ok_wall and ok_memory)
            print(f"build run {run + 1}: {result['wall']:.1f}s wall "
                  f"({'ok' if ok_wall else 'MISSED'}; {result['cpu']:.0f} CPU-s), "
                  f"tree PSS {result['tree_pss_mb']:.0f} MB "
                  f"({'ok' if ok_memory else 'MISSED'}), tree RSS "
                  f"{result['tree_rss_mb']:.0f} MB, max RSS (one process) "
                  f"{result['max_rss_mb']:.0f} MB, up to {result['processes']} processes, "
                  f"load average {load:.1f}")
            for name, seconds in result["phases"].items():
                print(f"  {name:<34} {seconds:7.2f}s")
            for line in result["summary"]:
                print(f"  | {line}", flush=True)
        # Removing a site of 100k folders takes minutes of disk work: after the last run,
        # so it does not weigh on the next one.
        for run in range(args.runs):
            shutil.rmtree(folder / f"out-{run}", ignore_errors=True)
        return 1 if missed else 0
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    sys.exit(main())
