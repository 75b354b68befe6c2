"""`gantry validate` reports docs problems at their lines: a missing folder at the field, a
nav entry at its mkdocs.yml line, a broken link or image at the Markdown line and column;
in every output format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.validate.catalog import validate_catalog

from .conftest import TEAM, service, write

GANTRY = Path(sys.executable).with_name("gantry")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    write(root, "Team/platform-team.yaml", TEAM)
    write(root, "Service/missing.yaml", service("missing", docs="../nowhere"))
    write(root, "Service/legacy.yaml", service("legacy", techdocs="dir:./legacy-docs"))
    write(root, "Service/orders.yaml", service("orders", docs="../orders-docs"))
    write(root, "orders-docs/mkdocs.yml", """
        site_name: Orders
        nav:
          - Home: index.md
          - Gone: gone.md
    """)
    write(root, "orders-docs/docs/index.md", """
        # Orders

        See the [deploys](deploy.md) and [nothing](nothing.md#x).

        ![diagram](img/missing.png)
    """)
    write(root, "orders-docs/docs/deploy.md", "# Deploy\n\nBack [home](index.md).\n")
    return root


def test_each_problem_at_its_line(broken: Path) -> None:
    problems = validate_catalog(broken, display_root="catalog").problems
    found = {(p.file, p.line, p.column, p.rule) for p in problems}
    assert ("catalog/Service/missing.yaml", 7, 11, "docs-path") in found
    assert ("catalog/Service/legacy.yaml", 7, 32, "docs-path") in found
    assert ("catalog/orders-docs/mkdocs.yml", 4, 1, "docs-nav") in found
    assert ("catalog/orders-docs/docs/index.md", 3, 44, "docs-link") in found
    assert ("catalog/orders-docs/docs/index.md", 5, 12, "docs-image") in found
    assert len(problems) == 5, problems
    messages = " ".join(p.message for p in problems)
    assert "'../nowhere' (nowhere) does not exist" in messages
    assert "nav names 'gone.md'" in messages
    assert "image 'img/missing.png' does not exist" in messages


def gantry(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    return subprocess.run([str(GANTRY), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_all_four_formats(broken: Path) -> None:
    cwd = broken.parent
    text = gantry("validate", "catalog", cwd=cwd)
    assert text.returncode == 1
    assert "catalog/orders-docs/docs/index.md:3:44" in text.stdout
    assert "docs-link" in text.stdout
    as_json = gantry("validate", "catalog", "--format", "json", cwd=cwd)
    assert as_json.returncode == 1
    rules = {(p["file"], p["line"], p["rule"]) for p in json.loads(as_json.stdout)["problems"]}
    assert ("catalog/orders-docs/mkdocs.yml", 4, "docs-nav") in rules
    github = gantry("validate", "catalog", "--format", "github", cwd=cwd)
    assert "file=catalog/orders-docs/docs/index.md,line=5,col=12" in github.stdout
    sarif = json.loads(gantry("validate", "catalog", "--format", "sarif", cwd=cwd).stdout)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"docs-path", "docs-nav", "docs-link", "docs-image"}
    located = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results}
    assert ("catalog/Service/missing.yaml", 7) in located


def test_a_clean_docs_folder_has_no_problems(broken: Path) -> None:
    for name in ("missing", "legacy"):
        (broken / f"Service/{name}.yaml").unlink()
    write(broken, "orders-docs/mkdocs.yml", "site_name: Orders\nnav:\n  - index.md\n")
    write(broken, "orders-docs/docs/index.md", "# Orders\n\n[Deploy](deploy.md)\n")
    assert validate_catalog(broken).problems == []
