"""Validating a whole catalog, or a few entities against the refs of a catalog."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..load import FileInfo, LoadResult, catalog_files, load_files, without_docs_files
from ..structure.entity import Entity
from ..structure.kinds import SchemaRegistry
from ..structure.problem import Problem
from .actions import action_findings
from .docs import docs_problems
from .finding import Finding, to_problems
from .locations import location_findings
from .names import name_findings
from .references import ReferenceChecker, duplicate_findings, known_refs
from .schema import schema_findings
from .scorecards import scorecard_findings


@dataclass(slots=True)
class ValidationResult:
    """Every entity read, every problem found (sorted by position), and the files read."""

    entities: list[Entity] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, FileInfo] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem is an error (warnings do not fail a catalog)."""
        return not any(problem.severity == "error" for problem in self.problems)


def validate_entities(entities: list[Entity], known: Collection[str],
                      registry: SchemaRegistry | None = None, root: Path | None = None,
                      display_root: str | None = None) -> list[Problem]:
    """Every problem of `entities`, with references resolved against `known` refs.

    `root` is the catalog folder the entities' paths are relative to; without it (an entity
    not written yet) problems point at the document's first line, and each message still
    names the field at fault (`spec.type: ...`). Duplicates are looked for among `entities`.
    """
    registry = registry or SchemaRegistry()
    root = Path(root) if root is not None else None
    references = ReferenceChecker(known, registry)
    findings = _own_findings(entities, registry)
    for entity in entities:
        findings += references.findings(entity)
    findings += duplicate_findings(entities, root, display_root)
    return sorted(to_problems(findings, root, display_root), key=Problem.sort_key)


def _own_findings(entities: list[Entity], registry: SchemaRegistry) -> list[Finding]:
    """The checks that look at one entity alone (no other entity needed)."""
    findings: list[Finding] = []
    for entity in entities:
        findings += schema_findings(entity, registry)
        findings += name_findings(entity)
        findings += action_findings(entity)
        findings += scorecard_findings(entity)
    return findings


PARALLEL_MIN_FILES = 2000
"""Below this many files a process pool costs more than it saves."""
_JOB: dict[str, Any] = {}


def _load_and_check(relpaths: list[str]) -> tuple[LoadResult, list[Finding]]:
    """A worker's share: load its files and run the per-entity checks on them."""
    loaded = load_files(_JOB["root"], relpaths, _JOB["display_root"])
    return loaded, _own_findings(loaded.entities, _JOB["registry"])


def _load_checked(root: Path, registry: SchemaRegistry, display_root: str | None,
                  workers: int, files: list[str] | None = None
                  ) -> tuple[LoadResult, list[Finding]]:
    """Load every file and run the per-entity checks, across `workers` forked processes.

    Forking is used only where the caller says it is safe (a single-threaded command);
    the pool inherits the compiled schemas, and results come back in file order.
    """
    relpaths = catalog_files(root) if files is None else files
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if workers < 2 or len(relpaths) < PARALLEL_MIN_FILES or not can_fork:
        loaded = load_files(root, relpaths, display_root)
        return loaded, _own_findings(loaded.entities, registry)
    # The parent loads the first share itself while forked children load the rest: what
    # comes back from a child has to be pickled, so the parent's share is free of that cost.
    share = -(-len(relpaths) // workers)
    shares = [relpaths[i:i + share] for i in range(0, len(relpaths), share)]
    _JOB.update(root=root, display_root=display_root, registry=registry)
    try:
        with multiprocessing.get_context("fork").Pool(len(shares) - 1) as pool:
            pending = pool.map_async(_load_and_check, shares[1:])
            parts = [_load_and_check(shares[0]), *pending.get()]
    finally:
        _JOB.clear()
    loaded, findings = LoadResult(), []
    for part, part_findings in parts:
        loaded.entities += part.entities
        loaded.problems += part.problems
        loaded.files.update(part.files)
        findings += part_findings
    return loaded, findings


def validate_catalog(root: Path | str, registry: SchemaRegistry | None = None,
                     display_root: str | None = None,
                     extra_schema_dirs: Iterable[Path | str] = (),
                     workers: int = 1, files: list[str] | None = None) -> ValidationResult:
    """Load and validate every YAML file under `root`, reporting every problem at once.

    `files` (relative posix paths) reads only those files instead: a catalog given as a
    file and the files its Locations reach (`generator.selection.reachable_files`).
    `workers` > 1 loads and checks large catalogs in forked processes: only for callers
    with no other threads (the CLI), since forking a threaded process is unsafe.
    Raises FileNotFoundError when `root` is not a folder, and `SchemaError` when a schema
    file (built-in or from `extra_schema_dirs`) is broken.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"catalog folder not found: {root}")
    registry = registry or SchemaRegistry(extra_schema_dirs)
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects and no cyclic garbage: collections only cost time
    try:
        loaded, findings = _load_checked(root, registry, display_root, workers, files)
    finally:
        if collecting:
            gc.enable()
    before = len(loaded.entities)
    loaded = without_docs_files(loaded)
    if len(loaded.entities) != before:
        kept = {id(entity) for entity in loaded.entities}
        findings = [finding for finding in findings if id(finding.entity) in kept]
    references = ReferenceChecker(known_refs(loaded.entities), registry)
    for entity in loaded.entities:
        findings += references.findings(entity)
    findings += duplicate_findings(loaded.entities, root, display_root)
    findings += location_findings(loaded.entities, root, loaded.files.keys())
    found = to_problems(findings, root, display_root)
    found += docs_problems(root, loaded.entities, display_root)
    # A value the loader refused (a YAML tag) reads as null; its schema error would only
    # repeat, at the same position, what the loader already said.
    refused = {(p.file, p.line, p.column) for p in loaded.problems}
    problems = loaded.problems + [p for p in found if (p.file, p.line, p.column) not in refused]
    problems.sort(key=Problem.sort_key)
    return ValidationResult(loaded.entities, problems, loaded.files)
