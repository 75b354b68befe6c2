"""`PATCH` and `DELETE /api/v1/auth/users/{name}` on a real `gantry serve`.

A role change ends the user's sessions, revokes their keys above the new role and closes
their WebSockets at once (well inside the sockets' own 2-second recheck); disabling ends
every session and key and refuses new sign-ins; deleting removes the account; every change
is audited; the last enabled admin stays; only admins may do any of it.
"""

from __future__ import annotations

import time

from tests.runner.test_trust_ws_revocation import open_socket, until_close
from tests.support.runner_process import http, login

PASSWORD = "password-123"
AT_ONCE = 1.0


def patch(runner, name: str, body: dict, token: str | None = None):
    return http.request("PATCH", runner.url(f"/api/v1/auth/users/{name}"),
                        headers=runner.auth(token), json=body)


def delete(runner, name: str, token: str | None = None):
    return http.delete(runner.url(f"/api/v1/auth/users/{name}"), headers=runner.auth(token))


def me_status(runner, credential: str) -> int:
    return http.get(runner.url("/api/v1/auth/me"), headers=runner.auth(credential)).status_code


def new_key(runner, token: str, role: str) -> str:
    answer = http.post(runner.url("/api/v1/auth/apikeys"), headers=runner.auth(token),
                       json={"name": f"key-{role}", "role": role})
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


def audit_of(runner, name: str) -> list[dict]:
    answer = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                      params={"limit": 500})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    entries = body["entries"] if isinstance(body, dict) else body
    return [e for e in entries if e.get("resourceName") == name]


def test_lowering_a_role_ends_sessions_higher_keys_and_sockets_at_once(runner, make_user):
    name, session = make_user("platform-engineer")
    high_key = new_key(runner, session, "platform-engineer")
    low_key = new_key(runner, session, "viewer")
    socket = open_socket(runner, cookie=session)
    since = time.monotonic()
    answer = patch(runner, name, {"role": "developer"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "developer" and answer.json()["disabled"] is False
    code, _reason, _messages, delay = until_close(socket, since)
    assert code == 4401 and delay < AT_ONCE, (code, delay)
    assert me_status(runner, session) == 401
    assert me_status(runner, high_key) == 401
    assert me_status(runner, low_key) == 200
    fresh = login(runner.base_url, name, PASSWORD)
    assert http.get(runner.url("/api/v1/auth/me"),
                    headers=runner.auth(fresh)).json()["role"] == "developer"
    [entry] = [e for e in audit_of(runner, name) if e["action"] == "update"]
    assert entry["before"]["role"] == "platform-engineer"
    assert entry["after"]["role"] == "developer"


def test_disabling_ends_everything_and_refuses_sign_in_until_enabled(runner, make_user):
    name, session = make_user("developer")
    key = new_key(runner, session, "viewer")
    socket = open_socket(runner, bearer=key)
    since = time.monotonic()
    answer = patch(runner, name, {"disabled": True})
    assert answer.status_code == 200 and answer.json()["disabled"] is True
    code, _reason, _messages, delay = until_close(socket, since)
    assert code == 4401 and delay < AT_ONCE
    assert me_status(runner, session) == 401 and me_status(runner, key) == 401
    refused = http.post(runner.url("/api/v1/auth/login"),
                        json={"username": name, "password": PASSWORD})
    assert refused.status_code == 401
    listed = http.get(runner.url("/api/v1/auth/users"), headers=runner.auth()).json()
    assert [u["disabled"] for u in listed if u["username"] == name] == [True]
    assert patch(runner, name, {"disabled": False}).json()["disabled"] is False
    assert login(runner.base_url, name, PASSWORD)


def test_deleting_a_user_removes_the_account_and_its_credentials(runner, make_user):
    name, session = make_user("developer")
    key = new_key(runner, session, "developer")
    socket = open_socket(runner, cookie=session)
    since = time.monotonic()
    assert delete(runner, name).status_code == 204
    code, _reason, _messages, delay = until_close(socket, since)
    assert code == 4401 and delay < AT_ONCE
    assert me_status(runner, session) == 401 and me_status(runner, key) == 401
    users = http.get(runner.url("/api/v1/auth/users"), headers=runner.auth()).json()
    assert name not in {u["username"] for u in users}
    assert delete(runner, name).status_code == 404
    [entry] = [e for e in audit_of(runner, name) if e["action"] == "delete"]
    assert entry["before"]["username"] == name


def test_bad_changes_are_refused_with_a_clear_message(runner, make_user):
    name, session = make_user("developer")
    for body, words in (({"role": "owner"}, "role must be one of"),
                        ({"disabled": "yes"}, "disabled must be true or false"),
                        ({}, "role and/or disabled"),
                        ({"password": "x"}, "only role and disabled")):
        answer = patch(runner, name, body)
        assert answer.status_code == 400, (body, answer.text)
        assert words in answer.json()["error"]
    assert patch(runner, "nobody-at-all", {"role": "viewer"}).status_code == 404
    assert patch(runner, name, {"role": "admin"}, token=session).status_code == 403
    assert delete(runner, "admin", token=session).status_code == 403


def test_the_last_enabled_admin_cannot_be_demoted_disabled_or_deleted(runner):
    admins = [u for u in http.get(runner.url("/api/v1/auth/users"),
                                  headers=runner.auth()).json()
              if u["role"] == "admin" and not u["disabled"]]
    if len(admins) > 1:  # other tests of this session may have made admins
        for extra in admins:
            if extra["username"] != "admin":
                assert patch(runner, extra["username"], {"role": "viewer"}).status_code == 200
    for answer in (patch(runner, "admin", {"role": "developer"}),
                   patch(runner, "admin", {"disabled": True}), delete(runner, "admin")):
        assert answer.status_code == 409, answer.text
        assert "last enabled admin" in answer.json()["error"]
    assert me_status(runner, runner.admin_token) == 200


def test_audit_filters_by_user_action_resource_and_time(runner, make_user):
    name, session = make_user("developer")
    start = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                     params={"limit": 1}).json()[0]["timestamp"]
    new_key(runner, session, "viewer")
    patch(runner, name, {"role": "viewer"})
    mine = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                    params={"resource": name, "resourceType": "user"}).json()
    assert {e["action"] for e in mine} >= {"update", "create"}
    assert all(e["resourceName"] == name for e in mine)
    by_user = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                       params={"user": name, "action": "create"}).json()
    assert [(e["resourceType"], e["action"]) for e in by_user] == [("ApiKey", "create")]
    later = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                     params={"resource": name, "since": start}).json()
    assert "create" not in {e["action"] for e in later if e["resourceType"] == "User"}
    assert http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                    params={"resource": name, "until": start}).json()[0]["action"] == "create"
    page = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                    params={"resource": name, "limit": 1, "offset": 1}).json()
    assert page == mine[1:2]
    bad = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                   params={"since": "yesterday"})
    assert bad.status_code == 400 and "since must be an ISO 8601" in bad.json()["error"]
