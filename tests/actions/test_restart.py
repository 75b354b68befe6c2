"""Kill the runner with SIGKILL while a webhook run waits in backoff; after a restart the run
ends (delivered once more with the same Idempotency-Key), never stuck in `running`."""

import signal

import httpx

from tests.support.runner_process import RunnerProcess, make_catalog_repo

from .conftest import action_files, run_state, wait_for_run
from .fakes.webhook_receiver import WebhookReceiver

ACTIONS = {
    "backoff-hook": """
        spec:
          type: webhook
          config:
            url: ${RESTART_HOOK_URL}
    """,
    "approve-later": """
        spec:
          type: webhook
          config:
            url: ${RESTART_HOOK_URL}/approved
          permissions:
            requireApproval: true
            approvers: [carol]
    """,
}


def test_run_in_backoff_survives_sigkill(tmp_path):
    repo = make_catalog_repo(tmp_path / "repo", extra_files=action_files(ACTIONS))
    with WebhookReceiver(fail_times=1, fail_status=429, retry_after="3") as hook:
        env = {"RESTART_HOOK_URL": hook.url, "GANTRY_ACTION_ENV": "RESTART_HOOK_URL"}
        first = RunnerProcess(repo / "catalog", tmp_path / "data", env=env).start()
        carol = first.create_user("carol", "developer")
        try:
            response = httpx.post(first.url("/api/v1/actions/backoff-hook/execute"),
                                  headers=first.auth(), json={}, timeout=30)
            assert response.status_code == 201
            run_id = response.json()["id"]
            pending = httpx.post(first.url("/api/v1/actions/approve-later/execute"),
                                 headers=first.auth(), json={}, timeout=30).json()
            hook.wait_for(1)
            running = run_state(first, "backoff-hook", run_id)
            assert running["status"] == "running"
        finally:
            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
        assert len(hook.requests) == 1
        with RunnerProcess(repo / "catalog", tmp_path / "data", env=env) as second:
            done = wait_for_run(second, "backoff-hook", run_id, timeout=30)
            assert done["status"] == "success", done
            assert done["outputs"]["attempts"] == 2
            # the backoff run finished on the restarted runner; the held one still waits
            still = run_state(second, "approve-later", pending["id"])
            assert still["status"] == "pending" and still["awaitingApproval"]
            approved = httpx.post(
                second.url(f"/api/v1/actions/approve-later/runs/{pending['id']}/approve"),
                headers=second.auth(carol), json={}, timeout=30)
            assert approved.status_code == 200, approved.text
            assert wait_for_run(second, "approve-later", pending["id"])["status"] == "success"
    keys = {r.headers["Idempotency-Key"] for r in hook.requests if r.path == "/"}
    assert len(keys) == 1
