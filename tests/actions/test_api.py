"""The actions API against a real `gantry serve` process and fake receivers."""

import hashlib
import hmac

import httpx

from .conftest import HOOK_SECRET, HOOK_TOKEN, run_state, wait_for_run


def execute(runner, action, inputs=None, token=None, **kwargs):
    body = {} if inputs is None else {"inputs": inputs}
    return httpx.post(runner.url(f"/api/v1/actions/{action}/execute"), json=body,
                      headers=runner.auth(token), timeout=30, **kwargs)


def test_list_actions_reports_problems(runner):
    response = httpx.get(runner.url("/api/v1/actions"), headers=runner.auth(), timeout=30)
    assert response.status_code == 200
    by_name = {item["metadata"]["name"]: item for item in response.json()}
    assert by_name["test-webhook"]["problems"] == []
    assert any("config.method" in p for p in by_name["test-misconfigured"]["problems"])
    assert "page-oncall" in by_name


def test_execute_delivers_the_webhook_and_tracks_the_run(runner, receivers):
    hook, _ = receivers
    before = len(hook.requests)
    response = execute(runner, "test-webhook", {"service": "payment-api", "replicas": 2},
                       runner.tokens["alice"])
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["actionName"] == "test-webhook" and run["triggeredBy"] == "alice"
    assert run["inputs"] == {"service": "payment-api", "replicas": 2}
    assert run["startedAt"] and run["status"] in ("pending", "running")
    done = wait_for_run(runner, "test-webhook", run["id"])
    assert done["status"] == "success", done
    assert done["outputs"]["statusCode"] == 200 and done["completedAt"]
    request = [r for r in hook.requests[before:] if r.headers["X-Gantry-Run-Id"] == run["id"]][0]
    assert request.path == "/deploy"
    assert request.json() == {"service": "payment-api", "replicas": 2}
    assert request.headers["Authorization"] == f"Bearer {HOOK_TOKEN}"
    digest = hmac.new(HOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == f"sha256={digest}"
    listed = httpx.get(runner.url("/api/v1/actions/test-webhook/runs"), headers=runner.auth(),
                       timeout=30).json()
    assert run["id"] in [item["id"] for item in listed]
    everything = httpx.get(runner.url("/api/v1/actions/runs"), headers=runner.auth(),
                           timeout=30).json()
    assert run["id"] in [item["id"] for item in everything]


def test_invalid_inputs_answer_422_with_one_message_per_field(runner, receivers):
    hook, _ = receivers
    before = len(hook.requests)
    response = execute(runner, "test-webhook",
                       {"replicas": "three", "dry_run": "yes", "environment": "qa", "extra": 1},
                       runner.tokens["alice"])
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid inputs"
    assert set(body["fields"]) == {"service", "replicas", "dry_run", "environment", "extra"}
    assert "required" in body["fields"]["service"]
    assert "staging" in body["fields"]["environment"]
    assert len(hook.requests) == before


def test_misconfigured_action_is_refused(runner):
    response = execute(runner, "test-misconfigured", {}, runner.tokens["alice"])
    assert response.status_code == 422 and response.json()["problems"]


def test_unknown_action_is_404(runner):
    assert execute(runner, "no-such-action", {}).status_code == 404


def test_viewer_cannot_execute(runner):
    response = execute(runner, "test-webhook", {"service": "x"}, runner.tokens["heidi"])
    assert response.status_code == 403


def test_missing_credentials_is_401(runner):
    response = httpx.post(runner.url("/api/v1/actions/test-webhook/execute"),
                          json={"inputs": {"service": "x"}}, timeout=30)
    assert response.status_code == 401


def test_allowed_teams_and_roles(runner):
    # ivan is on data-team (listed); alice is neither on it nor an admin
    assert execute(runner, "test-restricted", {}, runner.tokens["alice"]).status_code == 403
    assert execute(runner, "test-restricted", {}, runner.tokens["ivan"]).status_code == 201
    assert execute(runner, "test-restricted", {}).status_code == 201  # admin role is listed


def test_approval_by_a_team_member_runs_the_action(runner, receivers):
    hook, _ = receivers
    run = execute(runner, "test-approval", {}, runner.tokens["alice"]).json()
    assert run["status"] == "pending" and run["awaitingApproval"] is True
    base = f"/api/v1/actions/test-approval/runs/{run['id']}"
    own = httpx.post(runner.url(base + "/approve"), headers=runner.auth(runner.tokens["alice"]),
                     json={}, timeout=30)
    assert own.status_code == 403 and "requester" in own.json()["error"]
    outsider = httpx.post(runner.url(base + "/approve"), json={},
                          headers=runner.auth(runner.tokens["ivan"]), timeout=30)
    assert outsider.status_code == 403
    assert run_state(runner, "test-approval", run["id"])["status"] == "pending"
    assert not [r for r in hook.requests if r.headers.get("X-Gantry-Run-Id") == run["id"]]
    approved = httpx.post(runner.url(base + "/approve"), json={"reason": "looks good"},
                          headers=runner.auth(runner.tokens["judy"]), timeout=30)  # sre-team
    assert approved.status_code == 200, approved.text
    assert approved.json()["approvals"][0]["user"] == "judy"
    done = wait_for_run(runner, "test-approval", run["id"])
    assert done["status"] == "success"
    again = httpx.post(runner.url(base + "/reject"), json={},
                       headers=runner.auth(runner.tokens["carol"]), timeout=30)
    assert again.status_code == 409
    audit = httpx.get(runner.url("/api/v1/audit?limit=200"), headers=runner.auth(),
                      timeout=30).json()
    assert any(e["action"] == "approve" and e["userName"] == "judy" for e in audit)


def test_rejection_fails_the_run_with_the_reason(runner):
    run = execute(runner, "test-approval", {}, runner.tokens["alice"]).json()
    base = f"/api/v1/actions/test-approval/runs/{run['id']}"
    rejected = httpx.post(runner.url(base + "/reject"), json={"reason": "change freeze"},
                          headers=runner.auth(runner.tokens["carol"]), timeout=30)
    assert rejected.status_code == 200
    done = wait_for_run(runner, "test-approval", run["id"])
    assert done["status"] == "failed" and done["error"] == "rejected by carol: change freeze"
    assert done["approvals"][0]["decision"] == "rejected"


def test_flux_update_success_and_wrong_token(runner, receivers):
    _, flux = receivers
    ok = execute(runner, "test-flux", {}, runner.tokens["alice"]).json()
    assert wait_for_run(runner, "test-flux", ok["id"])["status"] == "success"
    assert flux.accepted
    bad = execute(runner, "test-flux-wrong-token", {}, runner.tokens["alice"]).json()
    done = wait_for_run(runner, "test-flux-wrong-token", bad["id"])
    assert done["status"] == "failed" and "HTTP 400" in done["error"]


def test_unset_variable_fails_closed(runner, receivers):
    hook, _ = receivers
    run = execute(runner, "test-unset-variable", {}, runner.tokens["alice"]).json()
    done = wait_for_run(runner, "test-unset-variable", run["id"])
    assert done["status"] == "failed" and "TEST_NEVER_SET_VARIABLE" in done["error"]
    assert not [r for r in hook.requests if r.path == "/unset"]


def test_execute_is_audited_with_redacted_inputs_and_ip(runner):
    run = execute(runner, "test-webhook", {"service": "audited", "apiToken": "input-tok-8c1d"},
                  runner.tokens["bob"]).json()
    assert run["inputs"]["apiToken"] != "input-tok-8c1d"
    wait_for_run(runner, "test-webhook", run["id"])
    audit = httpx.get(runner.url("/api/v1/audit?limit=200"), headers=runner.auth(),
                      timeout=30).json()
    entry = next(e for e in audit if e["action"] == "execute"
                 and (e.get("details") or {}).get("runId") == run["id"])
    assert entry["userName"] == "bob" and entry["ipAddress"] == "127.0.0.1"
    assert entry["details"]["inputs"]["service"] == "audited"
    assert "input-tok-8c1d" not in str(entry)


def test_every_status_change_is_broadcast_on_the_websocket(runner):
    import json
    import time

    import websocket

    ws = websocket.create_connection(runner.base_url.replace("http", "ws", 1) + "/api/v1/ws",
                                     header=[f"Authorization: Bearer {runner.admin_token}"],
                                     timeout=10)
    try:
        ws.send(json.dumps({"action": "subscribe", "channel": "actions"}))
        while json.loads(ws.recv())["type"] != "subscribed":
            pass
        run = execute(runner, "test-webhook", {"service": "ws-events"}).json()
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not seen or seen[-1][1] != "success"):
            message = json.loads(ws.recv())
            assert message["type"].startswith("action.run."), message
            if message["payload"]["id"] == run["id"]:
                seen.append((message["type"], message["payload"]["status"]))
    finally:
        ws.close()
    assert seen == [("action.run.created", "pending"), ("action.run.updated", "running"),
                    ("action.run.updated", "success")]
