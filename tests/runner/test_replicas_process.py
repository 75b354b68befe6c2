"""Two `gantry serve` processes on one real PostgreSQL database, as two replicas.

They start together on an empty database (both upgrade it, one admin is made), share users
and sessions, and act as one for runs and events: a run asked for on A is approved on B and
executed once, a WebSocket client on B sees A's events, and when A is killed mid-run B takes
the run over after its lease and finishes it. Each replica has its own catalog repository
(catalog writes between replicas are not part of this test).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import websocket

from tests.actions.fakes.webhook_receiver import WebhookReceiver
from tests.support.runner_process import (
    ADMIN_PASSWORD,
    RunnerProcess,
    http,
    login,
    make_catalog_repo,
)

LEASE_SECONDS = "2"


def hook_action(name: str, url: str, approver: str | None = None) -> str:
    permissions = (f"    requireApproval: true\n    approvers:\n      - {approver}\n"
                   if approver else "    requireApproval: false\n")
    return (f"apiVersion: gantry.io/v1\nkind: Action\nmetadata:\n  name: {name}\n"
            f"  owner: platform-team\nspec:\n  type: webhook\n  config:\n    url: {url}\n"
            f"    retries: 3\n  permissions:\n{permissions}")


def start_together(runners: list[RunnerProcess]) -> None:
    failures: list[BaseException] = []

    def start(runner: RunnerProcess) -> None:
        try:
            runner.start()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    if failures:
        for runner in runners:
            runner.stop()
        raise failures[0]


def run_of(runner: RunnerProcess, action: str, run_id: str) -> dict:
    response = http.get(runner.url(f"/api/v1/actions/{action}/runs/{run_id}"),
                        headers=runner.auth())
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_status(runner: RunnerProcess, action: str, run_id: str,
                    timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = run_of(runner, action, run_id)
        if run["status"] in ("success", "failed"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} is still {run['status']}")


def receive_until(ws: websocket.WebSocket, wanted: str, run_id: str, seconds: float = 15) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if message["type"] == wanted and message["payload"].get("id") == run_id:
            return message
    raise AssertionError(f"no {wanted} for {run_id}")


@pytest.mark.timeout(300)
def test_two_replicas_share_users_runs_and_events(tmp_path, pg_url):
    with WebhookReceiver() as approved_hook, \
            WebhookReceiver(fail_times=1, fail_status=503, retry_after="3") as slow_hook:
        files = {"catalog/Action/default/approved-hook.yaml":
                 hook_action("approved-hook", approved_hook.url, approver="approver"),
                 "catalog/Action/default/slow-hook.yaml": hook_action("slow-hook", slow_hook.url)}
        env = {"GANTRY_DATABASE_URL": pg_url, "GANTRY_RUN_LEASE_SECONDS": LEASE_SECONDS}
        a = RunnerProcess(make_catalog_repo(tmp_path / "a", extra_files=files) / "catalog",
                          tmp_path / "a-data", env=env)
        b = RunnerProcess(make_catalog_repo(tmp_path / "b", extra_files=files) / "catalog",
                          tmp_path / "b-data", env=env)
        start_together([a, b])
        try:
            # one admin, and a session made on A works on B
            users = http.get(b.url("/api/v1/auth/users"), headers=b.auth(a.admin_token))
            assert users.status_code == 200
            assert [u["username"] for u in users.json()].count("admin") == 1
            a.create_user("approver", "developer")
            approver_on_b = login(b.base_url, "approver", "password-123")
            assert login(b.base_url, "admin", ADMIN_PASSWORD)

            ws = websocket.create_connection(
                b.base_url.replace("http://", "ws://") + "/api/v1/ws", timeout=10,
                header=[f"Authorization: Bearer {b.admin_token}"])
            assert json.loads(ws.recv())["type"] == "connected"
            try:
                # asked for on A, approved on B, executed once; B's client sees A's events
                asked = http.post(a.url("/api/v1/actions/approved-hook/execute"),
                                  headers=a.auth(), json={"inputs": {}})
                assert asked.status_code == 201, asked.text
                run_id = asked.json()["id"]
                assert receive_until(ws, "action.run.created", run_id)["payload"]["status"] \
                    == "pending"
                decided = http.post(b.url(f"/api/v1/actions/approved-hook/runs/{run_id}/approve"),
                                    headers=b.auth(approver_on_b), json={})
                assert decided.status_code == 200, decided.text
                assert wait_for_status(a, "approved-hook", run_id)["status"] == "success"
                time.sleep(1.0)  # a second execution would arrive now
                assert len(approved_hook.requests) == 1
            finally:
                ws.close()

            # A is killed while its run waits to retry; B takes it over and finishes it
            asked = http.post(a.url("/api/v1/actions/slow-hook/execute"), headers=a.auth(),
                              json={"inputs": {}})
            assert asked.status_code == 201, asked.text
            run_id = asked.json()["id"]
            slow_hook.wait_for(1)
            time.sleep(0.5)
            a.kill()
            done = wait_for_status(b, "slow-hook", run_id, timeout=40)
            assert done["status"] == "success", done
            assert len(slow_hook.requests) == 2
            assert len({r.headers["Idempotency-Key"] for r in slow_hook.requests}) == 1
            assert "taking over run" in b.log()
        finally:
            a.stop()
            b.stop()
