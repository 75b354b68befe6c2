"""A finding is a problem before it has a position: the entity, the document path, the message.

Checks produce findings; positions are added at the end, one file read per entity with
findings, because finding the position of a value means re-reading its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..load import locate_many
from ..structure.entity import Entity
from ..structure.problem import Problem


@dataclass(frozen=True, slots=True)
class Finding:
    """What is wrong (`message`, `rule`) and where in the document (`path`).

    `key=True` points at the key of the last path step rather than its value: where an
    unexpected key, or a mapping that lacks a key, is reported.
    """

    entity: Entity
    path: tuple
    message: str
    rule: str
    key: bool = False
    severity: str = "error"


def dotted(path: tuple) -> str:
    """A document path as people write it: `spec.inputs[1].name`."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    return text


def show(value: Any, limit: int = 60) -> str:
    """A short, YAML-flavoured rendering of a value for a message."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 1] + "…"
        return "'" + text.replace("\n", "\\n") + "'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def display_path(root: Path | None, display_root: str | None, relpath: str) -> str:
    """The file name shown to people: the catalog argument joined with the relative path."""
    base = display_root if display_root is not None else (str(root) if root else "")
    return f"{base.rstrip('/')}/{relpath}" if base else relpath


def to_problems(findings: list[Finding], root: Path | None, display_root: str | None
                ) -> list[Problem]:
    """Give every finding its file, line and column."""
    by_entity: dict[int, list[Finding]] = {}
    for finding in findings:
        by_entity.setdefault(id(finding.entity), []).append(finding)
    problems: list[Problem] = []
    for group in by_entity.values():
        entity = group[0].entity
        seen: set[tuple] = set()
        unique = []
        for finding in group:
            identity = (finding.path, finding.key, finding.message, finding.rule,
                        finding.severity)
            if identity not in seen:
                seen.add(identity)
                unique.append(finding)
        positions = locate_many(root, entity, [(f.path, f.key) for f in unique])
        file = display_path(root, display_root, entity.path)
        for finding, (line, column) in zip(unique, positions, strict=True):
            problems.append(Problem(file, line, column, finding.message, finding.rule,
                                    finding.severity))
    return problems
