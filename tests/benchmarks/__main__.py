"""`python -m tests.benchmarks [NAME ...]` (what `make bench` runs).

Runs the `main()` of every `tests/benchmarks/bench_*.py` module in turn, or only the named
ones (`validate` or `bench_validate`). Benchmarks report figures; they do not fail on them.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path


def available() -> list[str]:
    """Names of the benchmark modules, without the `bench_` prefix, sorted."""
    folder = Path(__file__).resolve().parent
    return sorted(path.stem.removeprefix("bench_") for path in folder.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = available()
    wanted = [name.removeprefix("bench_").removesuffix(".py") for name in argv] or names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}",
              file=sys.stderr)
        return 2
    failed = []
    for name in wanted:
        print(f"== bench_{name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"tests.benchmarks.bench_{name}")
            # An empty argument list: the names given here are not the benchmark's options.
            takes_argv = bool(inspect.signature(module.main).parameters)
            status = module.main([]) if takes_argv else module.main()
            if status:
                failed.append(name)
        except Exception:  # noqa: BLE001 - report and go on with the other benchmarks
            traceback.print_exc()
            failed.append(name)
        print(f"== bench_{name} done in {time.perf_counter() - started:.1f}s\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
