"""No secret — `${VAR}` values, HMAC keys, receiver tokens, secret-looking inputs — may appear
in any response, run, audit entry, log line, store file or commit."""

import sqlite3
import subprocess

import httpx
import pytest

from tests.support.runner_process import RunnerProcess, make_catalog_repo

from .conftest import action_files, wait_for_run
from .fakes.flux_receiver import FluxReceiver
from .fakes.webhook_receiver import WebhookReceiver

TOKEN = "leak-check-token-5e2a91"
HMAC_KEY = "leak-check-hmac-77f0c3"
FLUX_TOKEN = "leak-check-flux-0b6d4e"
INPUT_SECRET = "leak-check-input-3a9c"
SECRETS = (TOKEN, HMAC_KEY, FLUX_TOKEN, INPUT_SECRET)

ACTIONS = {
    "echo-hook": """
        spec:
          type: webhook
          inputs:
            - {name: password, type: string}
          config:
            url: ${LEAK_HOOK_URL}
            headers: {Authorization: "Bearer ${LEAK_TOKEN}"}
            secret: ${LEAK_HMAC}
    """,
    "failing-hook": """
        spec:
          type: webhook
          config:
            url: ${LEAK_FAILING_URL}?token=${LEAK_TOKEN}
            headers: {X-Custom: "key ${LEAK_TOKEN}"}
            retries: 0
    """,
    "flux-leak": """
        spec:
          type: flux-update
          config:
            url: ${LEAK_FLUX_URL}
            secret: ${LEAK_FLUX_TOKEN}
    """,
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets")
    with WebhookReceiver(echo_headers=True) as echo, \
            WebhookReceiver(fail_forever=True, fail_status=400, echo_headers=True) as failing, \
            FluxReceiver(token="a-different-token") as flux:
        repo = make_catalog_repo(root / "repo", extra_files=action_files(ACTIONS))
        env = {"LEAK_HOOK_URL": echo.url, "LEAK_FAILING_URL": failing.url,
               "LEAK_FLUX_URL": flux.hook_url, "LEAK_TOKEN": TOKEN, "LEAK_HMAC": HMAC_KEY,
               "LEAK_FLUX_TOKEN": FLUX_TOKEN, "GANTRY_ACTION_ENV": "LEAK_*"}
        with RunnerProcess(repo / "catalog", root / "data", env=env) as runner:
            yield runner, repo, root / "data", echo


def test_secrets_never_leave_the_runner(setup):
    runner, repo, data_dir, echo = setup
    seen = []

    def call(method, path, **kwargs):
        response = httpx.request(method, runner.url(path), headers=runner.auth(), timeout=30,
                                 **kwargs)
        seen.append(response.text)
        return response

    ids = {}
    for action, inputs in (("echo-hook", {"password": INPUT_SECRET}), ("failing-hook", {}),
                           ("flux-leak", {})):
        response = call("POST", f"/api/v1/actions/{action}/execute", json={"inputs": inputs})
        assert response.status_code == 201, response.text
        ids[action] = response.json()["id"]
    outcomes = {action: wait_for_run(runner, action, run_id) for action, run_id in ids.items()}
    assert outcomes["echo-hook"]["status"] == "success"
    assert outcomes["failing-hook"]["status"] == "failed"
    assert outcomes["flux-leak"]["status"] == "failed"
    # the secrets really were used: the receiver got them (and echoed them back)
    assert echo.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert echo.requests[0].json() == {"password": INPUT_SECRET}
    for action, run_id in ids.items():
        call("GET", f"/api/v1/actions/{action}/runs/{run_id}")
        call("GET", f"/api/v1/actions/{action}/runs")
    call("GET", "/api/v1/actions/runs")
    call("GET", "/api/v1/actions")
    call("GET", "/api/v1/audit?limit=500")
    assert "receivedHeaders" in "".join(seen)  # the echo reached the run's outputs, redacted
    assert "X-Custom" in outcomes["failing-hook"]["error"]  # and the error, redacted

    runner.stop()
    places = {"responses": "\n".join(seen), "log": runner.log()}
    for path in data_dir.glob("gantry.db*"):
        places[path.name] = path.read_bytes().decode("latin-1")
    with sqlite3.connect(data_dir / "gantry.db") as conn:
        places["audit rows"] = repr(conn.execute("SELECT * FROM audit").fetchall())
        places["run rows"] = repr(conn.execute("SELECT * FROM action_runs").fetchall())
    places["git"] = subprocess.run(["git", "-C", str(repo), "log", "-p", "--all"],
                                   capture_output=True, text=True, check=True).stdout
    for where, text in places.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked into {where}"
