"""`deploy-service` (a github-action of the example catalog) through a real `gantry serve`:
the github plugin configured over the API, `gantry run --wait`, a failed workflow, secrets
kept out of everything, and a runner killed while following the workflow run."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.support.runner_process import GANTRY, RunnerProcess, http, make_catalog_repo

from .conftest import INPUTS, PAT
from .fake_github import FakeGitHub

RUNNER_ENV = {"GANTRY_GITHUB_POLL_INTERVAL": "0.05"}


def configure_github(runner: RunnerProcess, api_url: str) -> None:
    response = http.put(runner.url("/api/v1/plugins/github/config"), headers=runner.auth(),
                        json={"authMode": "pat", "personalAccessToken": PAT, "apiUrl": api_url})
    assert response.status_code == 200, response.text
    response = http.put(runner.url("/api/v1/plugins/github/enable"), headers=runner.auth(),
                        json={"enabled": True})
    assert response.status_code == 200, response.text


def gantry_run(runner: RunnerProcess, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GANTRY), "run", "deploy-service", "--server", runner.base_url,
         "--token", runner.admin_token, "--wait", "--timeout", "60", "--json", *args],
        capture_output=True, text=True, timeout=90)


def wait_for_run(runner: RunnerProcess, run_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = http.get(runner.url(f"/api/v1/actions/deploy-service/runs/{run_id}"),
                       headers=runner.auth()).json()
        if run["status"] in ("success", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    root = tmp_path_factory.mktemp("github-e2e")
    with FakeGitHub(token=PAT) as github:
        workflow = github.add_workflow("acme", "deployments", "deploy.yml", inputs=INPUTS)
        repo = make_catalog_repo(root / "repo")
        with RunnerProcess(repo / "catalog", root / "data", env=RUNNER_ENV) as runner:
            configure_github(runner, github.api_url)
            yield runner, github, workflow, root / "data"


def test_gantry_run_wait_dispatches_and_follows_the_workflow(portal):
    runner, github, workflow, _data = portal
    workflow.conclusion = "success"
    before = len(github.dispatches)
    done = gantry_run(runner, "--input", "service=payment-api", "--input",
                      "environment=staging", "--input", "dry_run=true")
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert run["status"] == "success"
    [dispatch] = github.dispatches[before:]
    assert dispatch.body["inputs"] == {"service": "payment-api", "environment": "staging",
                                       "dry_run": "true"}
    assert dispatch.headers["authorization"] == f"Bearer {PAT}"
    github_run = github.runs[run["outputs"]["runId"]]
    assert github_run.inputs == dispatch.body["inputs"] and github_run.status == "completed"
    assert run["outputs"]["htmlUrl"].endswith(f"/acme/deployments/actions/runs/{github_run.id}")
    assert run["outputs"]["conclusion"] == "success"


def test_failed_workflow_fails_the_run(portal):
    runner, github, workflow, _data = portal
    workflow.conclusion = "failure"
    done = gantry_run(runner, "--input", "service=payment-api", "--input",
                      "environment=production")
    workflow.conclusion = "success"
    assert done.returncode == 1, done.stderr
    run = json.loads(done.stdout)
    assert run["status"] == "failed" and "concluded failure" in run["error"]


def test_the_token_never_leaves_the_runner(portal):
    runner, github, _workflow, data_dir = portal
    # GitHub echoing the credential in an error must not carry it into the run either.
    github.fail("POST", "/dispatches", 422, message=f"Invalid token {PAT} for this request")
    seen = []
    response = http.post(runner.url("/api/v1/actions/deploy-service/execute"),
                         headers=runner.auth(),
                         json={"inputs": {"service": "x", "environment": "staging"}})
    assert response.status_code == 201, response.text
    seen.append(response.text)
    run = wait_for_run(runner, response.json()["id"])
    assert run["status"] == "failed" and "Invalid token __GANTRY_SECRET_REDACTED__" in run["error"]
    for path in ("/api/v1/actions/deploy-service/runs", "/api/v1/actions/runs",
                 "/api/v1/actions", "/api/v1/audit?limit=500", "/api/v1/plugins/github",
                 "/api/v1/plugins/github/config"):
        seen.append(http.get(runner.url(path), headers=runner.auth()).text)
    assert "__GANTRY_SECRET_REDACTED__" in seen[-1]
    places = {"responses": "\n".join(seen), "log": runner.log()}
    with sqlite3.connect(data_dir / "gantry.db") as conn:
        places["audit rows"] = repr(conn.execute("SELECT * FROM audit").fetchall())
        places["run rows"] = repr(conn.execute("SELECT * FROM action_runs").fetchall())
    for where, text in places.items():
        assert PAT not in text, f"the token leaked into {where}"


def test_a_runner_killed_while_following_resumes_by_run_id(tmp_path):
    with FakeGitHub(token=PAT, dispatch_mode="no-details") as github:
        github.add_workflow("acme", "deployments", "deploy.yml", inputs=INPUTS,
                            statuses=("queued",) + ("in_progress",) * 12 + ("completed",))
        repo = make_catalog_repo(tmp_path / "repo")
        first = RunnerProcess(repo / "catalog", tmp_path / "data", env=RUNNER_ENV).start()
        try:
            configure_github(first, github.api_url)
            response = http.post(first.url("/api/v1/actions/deploy-service/execute"),
                                 headers=first.auth(),
                                 json={"inputs": {"service": "a", "environment": "staging"}})
            assert response.status_code == 201, response.text
            run_id = response.json()["id"]
            deadline = time.monotonic() + 20
            while not github.requests_to("GET", "/actions/runs/"):
                assert time.monotonic() < deadline, "the run was never followed"
                time.sleep(0.01)
        finally:
            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
        [github_run] = github.runs.values()
        assert github_run.status != "completed"
        with RunnerProcess(repo / "catalog", tmp_path / "data", env=RUNNER_ENV) as second:
            run = wait_for_run(second, run_id)
        assert run["status"] == "success", run
        assert run["outputs"]["runId"] == github_run.id
        assert len(github.dispatches) == 1
        assert "resuming run" in second.log()
