"""Keeping a built site current while files change: the state behind `gantry watch`.

Each rebuild validates the catalog first. While it has errors, the last good site stays
served and the problems are shown (in the terminal and as an overlay on the page); once the
catalog is valid again, every file changed in the meantime is re-indexed and only the
affected pages are rendered again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..index.build import build_index
from ..index.incremental import update_files
from ..index.schema import IndexUnusable
from ..structure.problem import Problem
from ..validate import validate_catalog
from .build import build_site
from .config import load_config


@dataclass
class LiveStatus:
    """What the browser polls: the build number and the problems to show."""

    build: int = 0
    problems: list[dict] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict:
        return {"build": self.build, "problems": self.problems, "message": self.message}


def _problem_dict(problem: Problem) -> dict:
    return {"file": problem.file, "line": problem.line, "column": problem.column,
            "severity": problem.severity, "message": problem.message, "rule": problem.rule}


def _update_index(index_path: Path, catalog: Path, changed: list[str]) -> set[str] | None:
    """Re-index the changed files; the refs whose rows changed, or None for "all pages"."""
    try:
        return update_files(index_path, catalog, changed)
    except IndexUnusable:
        return build_index(catalog, index_path).changed_refs


class LiveSite:
    """Builds `out/catalog.duckdb` and `out/site/` and rebuilds them on request."""

    def __init__(self, catalog: Path, out: Path, config_path: Path | None,
                 report: Callable[[str], None] = print):
        self.catalog = Path(catalog)
        self.out = Path(out)
        self.site_dir = self.out / "site"
        self.index_path = self.out / "catalog.duckdb"
        self.config_path = config_path
        self.report = report
        self.status = LiveStatus()
        self.lock = threading.Lock()
        self._pending: set[str] = set()
        self._config_changed = False

    def _problems(self) -> list[Problem]:
        result = validate_catalog(self.catalog, display_root=str(self.catalog))
        return [p for p in result.problems if p.severity == "error"]

    def _show(self, problems: list[Problem], message: str = "") -> None:
        with self.lock:
            self.status.problems = [_problem_dict(p) for p in problems]
            self.status.message = message
        for problem in problems:
            self.report(f"{problem.file}:{problem.line}:{problem.column}: {problem.message} "
                        f"[{problem.rule}]")
        if message:
            self.report(message)

    def initial_build(self) -> None:
        """Build everything once; problems are shown, the site is built from what loads."""
        started = time.perf_counter()
        try:
            config = load_config(self.config_path)
            problems = self._problems()
            build_index(self.catalog, self.index_path)
            stats = build_site(self.index_path, self.catalog, self.site_dir, config=config)
        except Exception as exc:  # a broken edit must not stop the server
            self._show([], f"build failed: {exc}")
            return
        with self.lock:
            self.status.build += 1
        self._show(problems, f"{len(problems)} problem(s) in the catalog" if problems else "")
        self.report(f"built {stats.entity_pages} entity pages in "
                    f"{time.perf_counter() - started:.2f}s")

    def files_changed(self, paths: set[str], config_changed: bool = False) -> None:
        """Rebuild after `paths` (relative to the catalog) changed; keeps them while invalid."""
        self._pending |= paths
        self._config_changed |= config_changed
        started = time.perf_counter()
        try:
            config = load_config(self.config_path)
            problems = self._problems()
            if problems:
                self._show(problems, f"{len(problems)} problem(s); the site shows the last "
                                     "valid build")
                return
            self._show([], "")
            changed = _update_index(self.index_path, self.catalog, sorted(self._pending))
            if self._config_changed:
                changed = None
            stats = build_site(self.index_path, self.catalog, self.site_dir, config=config,
                               changed_refs=changed)
        except Exception as exc:  # a broken edit must not stop the server
            self._show([], f"build failed: {exc}")
            return
        self._pending.clear()
        self._config_changed = False
        with self.lock:
            self.status.build += 1
        self.report(f"rebuilt {stats.entity_pages} entity pages "
                    f"({stats.pages_written} files written) in "
                    f"{time.perf_counter() - started:.2f}s")
