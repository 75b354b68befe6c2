"""`gantry score`: the results, and `--base` telling a pull request what it drops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.index.conftest import document

from .conftest import git, make_repo, rule, scorecard, write_files

GANTRY = [str(Path(sys.executable).with_name("gantry"))]
CARD = scorecard("readiness", [
    rule("typed", "Bronze", field={"path": "spec.type", "exists": True}),
    rule("healthy", "Silver", field={"path": "spec.healthCheckUrl", "exists": True})],
    levels=("Bronze", "Silver"))


def _service(name: str, **spec: object) -> dict:
    return document("Service", name, spec={"type": "backend", **spec})


def _score(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GANTRY, "score", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    make_repo(root, {"card.yaml": [CARD], "services/a.yaml": [
        _service("a", healthCheckUrl="https://a.example.com/h")],
        "services/b.yaml": [_service("b")]})
    return root


def test_results_as_json(tmp_path: Path):
    root = _repo(tmp_path)
    done = _score(root, "--format", "json")
    assert done.returncode == 0, done.stderr
    cards = json.loads(done.stdout)["scorecards"]
    assert [(e["name"], e["level"]) for e in cards[0]["entities"]] == [("b", "Bronze"),
                                                                        ("a", "Silver")]
    assert cards[0]["entityCount"] == 2


def test_base_reports_a_drop_with_the_failing_rule(tmp_path: Path):
    root = _repo(tmp_path)
    unchanged = _score(root, "--base", "HEAD")
    assert unchanged.returncode == 0, unchanged.stderr
    assert "no entity dropped a level" in unchanged.stdout

    write_files(root / "catalog", {"services/a.yaml": [_service("a")]})
    summary = tmp_path / "summary.md"
    dropped = _score(root, "--base", "HEAD", "--format", "github",
                     env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert dropped.returncode == 1, dropped.stderr
    assert dropped.stdout.startswith("::error file=catalog/services/a.yaml,line=1,")
    assert "service:default/a dropped from Silver to Bronze" in dropped.stdout
    assert "healthy: spec.healthCheckUrl is missing" in dropped.stdout
    assert "| `service:default/a` | readiness | Silver | Bronze | healthy |" in \
        summary.read_text()

    git(root, "commit", "-qam", "drop the health check")
    assert _score(root, "--base", "HEAD~1").returncode == 1
    assert _score(root, "--base", "HEAD").returncode == 0


def test_usage_errors_exit_2(tmp_path: Path):
    root = _repo(tmp_path)
    unknown = _score(root, "--base", "no-such-branch")
    assert unknown.returncode == 2
    assert "not a commit" in unknown.stderr
    missing = _score(root, "--scorecard", "nope")
    assert missing.returncode == 2 and "no scorecard named 'nope'" in missing.stderr
    assert _score(root, "elsewhere").returncode == 2


def test_base_with_files_added_and_removed_since(tmp_path: Path):
    root = _repo(tmp_path)
    (root / "catalog/services/b.yaml").unlink()
    write_files(root / "catalog", {"services/c.yaml": [_service("c")]})
    done = _score(root, "--base", "HEAD", "--format", "json")
    assert done.returncode == 0, done.stderr
    entities = json.loads(done.stdout)["scorecards"][0]["entities"]
    assert sorted(e["name"] for e in entities) == ["a", "c"]
    assert json.loads(done.stdout)["drops"] == []

    git(root, "add", "-A")
    git(root, "commit", "-qm", "swap b for c")
    write_files(root / "catalog", {"services/a.yaml": [_service("a")]})
    dropped = _score(root, "--base", "HEAD~1", "--format", "json")
    assert dropped.returncode == 1
    assert [(d["ref"], d["before"], d["after"]) for d in json.loads(dropped.stdout)["drops"]] \
        == [("service:default/a", "Silver", "Bronze")]


def test_base_takes_file_names_literally(tmp_path: Path):
    root = tmp_path / "repo"
    make_repo(root, {"card.yaml": [CARD], "services/svc[1].yaml": [
        _service("a", healthCheckUrl="https://a.example.com/h")],
        "services/svc1.yaml": [_service("b")]})
    write_files(root / "catalog", {"services/svc[1].yaml": [_service("a")]})
    dropped = _score(root, "--base", "HEAD", "--format", "json")
    assert dropped.returncode == 1, dropped.stderr
    assert [d["ref"] for d in json.loads(dropped.stdout)["drops"]] == ["service:default/a"]
