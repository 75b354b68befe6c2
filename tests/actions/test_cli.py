"""`gantry run` end to end against a real runner process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

GANTRY = str(Path(sys.executable).with_name("gantry"))


def gantry_run(runner, *args, token=None, timeout=60):
    env = {"PATH": "/usr/bin:/bin", "GANTRY_URL": runner.base_url,
           "GANTRY_TOKEN": token or runner.admin_token}
    return subprocess.run([GANTRY, "run", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_wait_for_success_with_typed_inputs(runner, receivers):
    hook, _ = receivers
    done = gantry_run(runner, "test-webhook", "--input", "service=cli-svc", "--input",
                      "replicas=3", "--input", "dry_run=true", "--wait", "--timeout", "30",
                      token=runner.tokens["alice"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "success" in done.stdout and "statusCode: 200" in done.stdout
    sent = [r.json() for r in hook.requests if r.path == "/deploy"]
    assert {"service": "cli-svc", "replicas": 3, "dry_run": True} in sent


def test_inputs_json_and_json_output(runner):
    done = gantry_run(runner, "test-webhook", "--inputs", '{"service": "json-svc"}', "--wait",
                      "--json")
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert run["status"] == "success" and run["inputs"]["service"] == "json-svc"
    assert "success" in done.stderr  # progress goes to stderr with --json


def test_failed_run_exits_1(runner):
    done = gantry_run(runner, "test-flux-wrong-token", "--wait", "--timeout", "30")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "HTTP 400" in done.stdout


def test_rejected_run_exits_1(runner):
    import threading
    import time

    import httpx

    def reject_when_pending():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            runs = httpx.get(runner.url("/api/v1/actions/test-approval/runs?status=pending"),
                             headers=runner.auth(), timeout=10).json()
            mine = [r for r in runs if r["triggeredBy"] == "alice"]
            if mine:
                httpx.post(runner.url(f"/api/v1/actions/test-approval/runs/{mine[0]['id']}/reject"),
                           headers=runner.auth(runner.tokens["carol"]), json={"reason": "no"},
                           timeout=10)
                return
            time.sleep(0.1)

    rejecter = threading.Thread(target=reject_when_pending)
    rejecter.start()
    done = gantry_run(runner, "test-approval", "--wait", "--timeout", "30",
                      token=runner.tokens["alice"])
    rejecter.join()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "waiting for approval" in done.stdout and "rejected by carol: no" in done.stdout


def test_timeout_exits_3(runner):
    done = gantry_run(runner, "test-approval", "--wait", "--timeout", "1",
                      token=runner.tokens["bob"])
    assert done.returncode == 3, done.stdout + done.stderr
    assert "timed out" in done.stderr


def run_in_process(runner, *args, token=None):
    """The same command without a new interpreter, for the cases that end before a run."""
    from click.testing import CliRunner

    from runner.commands.run import command

    env = {"GANTRY_URL": runner.base_url, "GANTRY_TOKEN": token or runner.admin_token}
    return CliRunner().invoke(command, list(args), env=env)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["test-webhook", "--input", "replicas=many"], "not a number"),
        (["test-webhook", "--input", "noequals"], "name=value"),
        (["test-webhook", "--inputs", "[1]"], "JSON object"),
        (["test-webhook", "--input", "environment=qa", "--input", "service=x"], "environment"),
        (["no-such-action"], "not found"),
        (["test-webhook", "--server", "http://127.0.0.1:9"], "cannot reach"),
        (["test-webhook", "--server", "ftp://example.org"], "http or https"),
    ],
)
def test_usage_and_refusals_exit_2(runner, args, fragment):
    done = run_in_process(runner, *args)
    assert done.exit_code == 2, done.output
    assert fragment in done.output


def test_bad_token_exits_2(runner):
    done = run_in_process(runner, "test-webhook", "--input", "service=x", token="not-a-token")
    assert done.exit_code == 2 and "401" in done.output


def test_follows_the_run_over_the_websocket(runner):
    import time

    import httpx

    from runner.commands.run import _Client, _follow_ws

    client = _Client(runner.base_url, runner.admin_token)
    run = httpx.post(runner.url("/api/v1/actions/test-webhook/execute"), headers=runner.auth(),
                     json={"inputs": {"service": "ws"}}, timeout=30).json()
    lines = []
    final = _follow_ws(client, run, time.monotonic() + 20, lines.append)
    client.http.close()
    assert final is not None, "the WebSocket could not be used"
    assert final["status"] == "success" and lines[-1].endswith("success")
