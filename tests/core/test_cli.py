"""`gantry validate` run as the installed console script, on temporary catalogs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from .conftest import run_gantry, write

BAD_SERVICE = """
    apiVersion: gantry.io/v1
    kind: Service
    metadata:
      name: payment-api
      owner: platform-team
    spec:
      type: backnd
      lifecycle: production
      foo: bar
"""


def test_clean_catalog_exits_0(tmp_path: Path, catalog: Path) -> None:
    done = run_gantry("validate", "catalog", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "catalog is valid: 2 entities in 2 files\n"
    assert done.stderr == ""


def test_default_catalog_folder(tmp_path: Path, catalog: Path) -> None:
    done = run_gantry("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 entities" in done.stdout


def test_problems_exit_1_with_positions(tmp_path: Path, catalog: Path) -> None:
    write(catalog, "Service/default/payment-api.yaml", BAD_SERVICE)
    write(catalog, "broken.yaml", "a: [")
    done = run_gantry("validate", "catalog", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "catalog/Service/default/payment-api.yaml:7:9: spec.type: 'backnd' is not one of "
        "backend, frontend, fullstack, library, worker (did you mean 'backend'?) [schema]",
        "catalog/Service/default/payment-api.yaml:9:3: spec: unexpected key 'foo' (allowed: "
        "type, lifecycle, system, repoUrl, dependsOn, deployedIn, providesApis, consumesApis, "
        "healthCheckUrl, apiDocsUrl) [schema]",
        "catalog/broken.yaml:2:1: YAML syntax error: did not find expected node content "
        "(while parsing a flow node that starts at line 2, column 1) [yaml-syntax]",
        "3 errors in 2 files (2 entities in 3 files checked)",
    ]
    assert "Traceback" not in done.stderr


def test_missing_folder_exits_2(tmp_path: Path) -> None:
    done = run_gantry("validate", "nowhere", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "gantry validate: catalog folder not found: nowhere\n"
    assert done.stdout == ""


def test_file_instead_of_folder_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "a: 1")
    done = run_gantry("validate", "notes.txt", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a folder or a YAML file: notes.txt" in done.stderr


def test_usage_error_exits_2(tmp_path: Path, catalog: Path) -> None:
    done = run_gantry("validate", "--format", "xml", "catalog", cwd=tmp_path)
    assert done.returncode == 2
    assert "'xml' is not one of" in done.stderr


def test_broken_extra_schema_exits_2(tmp_path: Path, catalog: Path) -> None:
    write(tmp_path, "own-schemas/widget.json", "{not json")
    done = run_gantry("validate", "--schemas", "own-schemas", "catalog", cwd=tmp_path)
    assert done.returncode == 2
    assert "widget.json:1:2: not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_json_format(tmp_path: Path, catalog: Path) -> None:
    write(catalog, "Service/default/payment-api.yaml", BAD_SERVICE)
    done = run_gantry("validate", "--format", "json", "catalog", cwd=tmp_path)
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    assert [(p["file"], p["line"], p["column"], p["severity"], p["rule"]) for p in problems] == [
        ("catalog/Service/default/payment-api.yaml", 7, 9, "error", "schema"),
        ("catalog/Service/default/payment-api.yaml", 9, 3, "error", "schema"),
    ]
    assert done.stderr.startswith("2 errors in 1 file")


def test_github_format_and_step_summary(tmp_path: Path, catalog: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(catalog, "Service/default/payment-api.yaml", BAD_SERVICE)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    done = run_gantry("validate", "--format", "github", str(catalog), cwd=tmp_path / "catalog",
                      env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    # Paths are relative to the repository root, whatever the working directory.
    assert lines[0].startswith("::error file=catalog/Service/default/payment-api.yaml,line=7,"
                               "col=9,title=gantry schema::spec.type: 'backnd'")
    assert len(lines) == 2
    text = summary.read_text()
    assert text.startswith("earlier step\n## Gantry catalog validation\n")
    assert "| catalog/Service/default/payment-api.yaml | 9 | 3 | schema |" in text


def test_sarif_format(tmp_path: Path, catalog: Path) -> None:
    write(catalog, "Service/default/payment-api.yaml", BAD_SERVICE)
    done = run_gantry("validate", "--format", "sarif", "./catalog/", cwd=tmp_path)
    assert done.returncode == 1
    log = json.loads(done.stdout)
    results = log["runs"][0]["results"]
    locations = [r["locations"][0]["physicalLocation"] for r in results]
    assert [(loc["artifactLocation"]["uri"], loc["region"]["startLine"]) for loc in locations] == [
        ("catalog/Service/default/payment-api.yaml", 7),
        ("catalog/Service/default/payment-api.yaml", 9)]


def test_extra_schemas_add_a_kind(tmp_path: Path, catalog: Path) -> None:
    write(tmp_path, "own-schemas/widget.json", json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "x-gantry-kind": "Widget",
        "allOf": [{"$ref": "envelope.json"}],
        "properties": {"kind": {"const": "Widget"}, "spec": {
            "type": "object", "additionalProperties": False, "required": ["size"],
            "properties": {"size": {"enum": ["small", "large"]}}}}}))
    write(catalog, "Widget/default/w.yaml", """
        apiVersion: gantry.io/v1
        kind: Widget
        metadata: {name: w, owner: platform-team}
        spec: {size: huge}
    """)
    without = run_gantry("validate", "catalog", cwd=tmp_path)
    assert without.returncode == 1
    assert "unknown kind 'Widget'" in without.stdout
    done = run_gantry("validate", "--schemas", "own-schemas", "catalog", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        "catalog/Widget/default/w.yaml:4:14: spec.size: 'huge' is not one of small, large "
        "[schema]")
    write(catalog, "Widget/default/w.yaml", "apiVersion: gantry.io/v1\nkind: Widget\n"
          "metadata: {name: w}\nspec: {size: small}\n")
    assert run_gantry("validate", "--schemas", "own-schemas", "catalog",
                      cwd=tmp_path).returncode == 0


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml")
                           .read_text())
    (hook,) = hooks
    assert hook["id"] == "gantry-validate"
    assert hook["entry"] == "gantry validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    assert pattern.search("catalog/Service/default/x.yaml")
    assert pattern.search("catalog/x.yml")
    assert not pattern.search("docs/catalog.md")
