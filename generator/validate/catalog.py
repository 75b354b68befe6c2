"""Validating a whole catalog, or a few entities against the refs of a catalog."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..load import FileInfo, load_catalog
from ..structure.entity import Entity
from ..structure.kinds import SchemaRegistry
from ..structure.problem import Problem
from .actions import action_findings
from .finding import Finding, to_problems
from .names import name_findings
from .references import ReferenceChecker, duplicate_findings, known_refs
from .schema import schema_findings


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
    findings: list[Finding] = []
    for entity in entities:
        findings += schema_findings(entity, registry)
        findings += name_findings(entity)
        findings += references.findings(entity)
        findings += action_findings(entity)
    findings += duplicate_findings(entities, root, display_root)
    return sorted(to_problems(findings, root, display_root), key=Problem.sort_key)


def validate_catalog(root: Path | str, registry: SchemaRegistry | None = None,
                     display_root: str | None = None,
                     extra_schema_dirs: Iterable[Path | str] = ()) -> ValidationResult:
    """Load and validate every YAML file under `root`, reporting every problem at once.

    Raises FileNotFoundError when `root` is not a folder, and `SchemaError` when a schema
    file (built-in or from `extra_schema_dirs`) is broken.
    """
    root = Path(root)
    registry = registry or SchemaRegistry(extra_schema_dirs)
    loaded = load_catalog(root, display_root)
    found = validate_entities(loaded.entities, known_refs(loaded.entities), registry, root,
                              display_root)
    # A value the loader refused (a YAML tag) reads as null; its schema error would only
    # repeat, at the same position, what the loader already said.
    refused = {(p.file, p.line, p.column) for p in loaded.problems}
    problems = loaded.problems + [p for p in found if (p.file, p.line, p.column) not in refused]
    problems.sort(key=Problem.sort_key)
    return ValidationResult(loaded.entities, problems, loaded.files)
