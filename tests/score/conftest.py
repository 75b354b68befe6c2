"""Small real catalogs in real Git repositories, scored into real DuckDB files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import yaml

from generator.index.build import build_index
from tests.index.conftest import document


def scorecard(name: str, rules: list[dict], levels: tuple[str, ...] = ("Bronze", "Silver",
                                                                        "Gold"),
              kinds: tuple[str, ...] = ("Service",), filter: dict | None = None) -> dict:
    applies: dict = {"kinds": list(kinds)}
    if filter:
        applies["filter"] = filter
    return document("Scorecard", name, spec={
        "appliesTo": applies, "levels": [{"name": level} for level in levels],
        "rules": rules})


def rule(rule_id: str, level: str, weight: float | None = None, **check: object) -> dict:
    found: dict = {"id": rule_id, "title": f"Rule {rule_id}", "level": level, **check}
    if weight is not None:
        found["weight"] = weight
    return found


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com",
                           *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def make_repo(root: Path, files: dict[str, list[dict]]) -> Path:
    """A Git repository whose `catalog/` holds `files`, committed once."""
    catalog = root / "catalog"
    write_files(catalog, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "catalog")
    return catalog


def write_files(catalog: Path, files: dict[str, list[dict]]) -> None:
    for rel, documents in files.items():
        path = catalog / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


def scored(catalog: Path, out: Path) -> duckdb.DuckDBPyConnection:
    """Build the index and open it read-only."""
    stats = build_index(catalog, out)
    return duckdb.connect(str(stats.path), read_only=True)


def results(con: duckdb.DuckDBPyConnection, card: str) -> dict[tuple[str, str], tuple]:
    """(ref, rule) → (passed, reason)."""
    return {(ref, rule_id): (passed, reason) for ref, rule_id, passed, reason in con.execute(
        "SELECT ref, rule, passed, reason FROM scorecard_results WHERE scorecard = ?",
        [card]).fetchall()}


def levels(con: duckdb.DuckDBPyConnection, card: str) -> dict[str, tuple]:
    """ref → (level, score)."""
    return {ref: (level, score) for ref, level, score in con.execute(
        "SELECT ref, level, score FROM scorecard_levels WHERE scorecard = ?",
        [card]).fetchall()}
