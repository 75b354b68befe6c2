"""A real `gantry serve` process on a temporary catalog repository with test actions whose
targets come from `${VAR}`s pointing at fake receivers started by the tests."""

from __future__ import annotations

import textwrap

import httpx
import pytest

from tests.support.runner_process import RunnerProcess, make_catalog_repo

from .fakes.flux_receiver import FluxReceiver
from .fakes.webhook_receiver import WebhookReceiver

HOOK_TOKEN = "hook-token-6d1f0c9e2b"
HOOK_SECRET = "hook-hmac-secret-41b7"
FLUX_TOKEN = "flux-receiver-token-93ce"

ACTIONS = {
    "test-webhook": """
        spec:
          type: webhook
          inputs:
            - {name: service, type: string, required: true}
            - {name: replicas, type: number, default: 1}
            - {name: dry_run, type: boolean}
            - {name: environment, type: select, options: [staging, production]}
            - {name: apiToken, type: string}
          config:
            url: ${TEST_HOOK_URL}/deploy
            headers:
              Authorization: Bearer ${TEST_HOOK_TOKEN}
            secret: ${TEST_HOOK_SECRET}
            retries: 1
    """,
    "test-approval": """
        spec:
          type: webhook
          config:
            url: ${TEST_HOOK_URL}/approved
          permissions:
            requireApproval: true
            approvers: [carol, sre-team]
    """,
    "test-restricted": """
        spec:
          type: webhook
          config:
            url: ${TEST_HOOK_URL}/restricted
          permissions:
            allowedTeams: [data-team]
            allowedRoles: [admin]
    """,
    "test-flux": """
        spec:
          type: flux-update
          config:
            url: ${TEST_FLUX_URL}
            secret: ${TEST_FLUX_TOKEN}
    """,
    "test-flux-wrong-token": """
        spec:
          type: flux-update
          config:
            url: ${TEST_FLUX_URL}
            secret: not-the-token
    """,
    "test-unset-variable": """
        spec:
          type: webhook
          config:
            url: ${TEST_HOOK_URL}/unset
            headers:
              X-Token: ${TEST_NEVER_SET_VARIABLE}
    """,
    "test-create-doc": """
        spec:
          type: internal
          inputs:
            - {name: name, type: string, required: true}
            - {name: url, type: string, required: true}
          config:
            operation: create
            entity:
              apiVersion: gantry.io/v1
              kind: Documentation
              metadata:
                name: "{{ inputs.name }}"
                owner: platform-team
                annotations: {created-by-run: "{{ run.id }}"}
              spec: {type: wiki, url: "{{ inputs.url }}"}
    """,
    "test-delete-doc": """
        spec:
          type: internal
          inputs:
            - {name: name, type: string, required: true}
          config:
            operation: delete
            target: {kind: Documentation, name: "{{ inputs.name }}"}
    """,
    "test-misconfigured": """
        spec:
          type: webhook
          config:
            method: HEAD
    """,
}


def action_files(actions: dict[str, str]) -> dict[str, str]:
    files = {}
    for name, body in actions.items():
        header = f"apiVersion: gantry.io/v1\nkind: Action\nmetadata:\n  name: {name}\n"
        files[f"catalog/Action/default/{name}.yaml"] = header + textwrap.dedent(body)
    return files


@pytest.fixture(scope="session")
def receivers():
    with WebhookReceiver() as hook, FluxReceiver(token=FLUX_TOKEN) as flux:
        yield hook, flux


@pytest.fixture(scope="session")
def runner(tmp_path_factory, receivers):
    hook, flux = receivers
    root = tmp_path_factory.mktemp("actions-runner")
    repo = make_catalog_repo(root / "repo", extra_files=action_files(ACTIONS))
    env = {
        "TEST_HOOK_URL": hook.url,
        "TEST_HOOK_TOKEN": HOOK_TOKEN,
        "TEST_HOOK_SECRET": HOOK_SECRET,
        "TEST_FLUX_URL": flux.hook_url,
        "TEST_FLUX_TOKEN": FLUX_TOKEN,
        "GANTRY_ACTION_ENV": "TEST_*",
    }
    with RunnerProcess(repo / "catalog", root / "data", env=env) as process:
        process.repo = repo
        process.tokens = {
            name: process.create_user(name, role)
            for name, role in (("alice", "developer"), ("bob", "developer"),
                               ("carol", "developer"), ("heidi", "viewer"),
                               ("ivan", "developer"), ("judy", "developer"))
        }
        yield process


def run_state(runner, action: str, run_id: str) -> dict:
    """The run as the API shows it now (decisions and queueing are recorded before the
    request that caused them answers, so no wait is needed to see them)."""
    response = httpx.get(runner.url(f"/api/v1/actions/{action}/runs/{run_id}"),
                         headers=runner.auth(), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_run(runner, action: str, run_id: str, timeout: float = 20.0,
                 statuses=("success", "failed")) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(runner.url(f"/api/v1/actions/{action}/runs/{run_id}"),
                        headers=runner.auth(), timeout=10).json()
        if run["status"] in statuses or time.monotonic() > deadline:
            return run
        time.sleep(0.05)
