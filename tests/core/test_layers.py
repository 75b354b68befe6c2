"""The arrows that must never exist between the layers (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved to dotted names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    """`file: module` for every import under `folder` of a forbidden module or package."""
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(imported_modules(path)):
            if any(module == name or module.startswith(name + ".") for name in forbidden):
                bad.append(f"{path.relative_to(ROOT)}: {module}")
    return bad


RULES = [
    ("generator", ("runner",)),
    ("runner/api", ("subprocess", "sqlite3", "duckdb", "git", "psycopg")),
    ("runner/actions/executors", ("flask", "werkzeug", "runner.api")),
    ("runner/actions", ("flask", "runner.api")),
    ("runner/catalog", ("flask", "runner.api")),
    ("runner/store", ("flask", "runner.api")),
    ("runner/plugins", ("flask", "runner.api")),
]


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[rule[0] for rule in RULES])
def test_no_forbidden_arrow(folder: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(folder, forbidden) == []


def test_the_check_sees_relative_and_nested_imports() -> None:
    sample = ROOT / "runner" / "api" / "entities.py"
    modules = imported_modules(sample)
    assert "runner.catalog.writer" in modules and "flask" in modules
    assert offenders("runner/api", ("flask",)), "the check would miss Flask in the API layer"
