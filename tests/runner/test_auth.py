"""Login, sessions, cookies, cross-site protection, users and API keys.

Contract checks run in process (the `api` app of tests/conftest.py); the CLI commands that
work while a runner serves use a real `gantry serve`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable

import httpx
import pytest

from tests.runner.conftest import unique
from tests.runner.inprocess import InProcessApp
from tests.support.runner_process import GANTRY, RunnerProcess, http, login


def test_login_answers_token_user_and_a_strict_cookie(api: InProcessApp) -> None:
    response = api.http.post(api.url("/api/v1/auth/login"),
                             json={"username": "admin", "password": api.admin_password})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "admin" and body["user"]["role"] == "admin"
    assert "password_hash" not in body["user"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"gantry_session={body['token']};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback


def test_wrong_password_and_unknown_user_are_the_same_401(api: InProcessApp) -> None:
    name = unique("nobody")
    wrong = api.http.post(api.url("/api/v1/auth/login"),
                          json={"username": "admin", "password": "not-the-password"})
    unknown = api.http.post(api.url("/api/v1/auth/login"),
                            json={"username": name, "password": "whatever-123"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "invalid username or password"}
    assert "set-cookie" not in wrong.headers


@pytest.mark.parametrize("body", [{}, {"username": "admin"}, {"username": 3, "password": "x"},
                                  {"username": "", "password": "x"}])
def test_login_with_missing_fields_is_400(api: InProcessApp, body: dict) -> None:
    assert api.http.post(api.url("/api/v1/auth/login"), json=body).status_code == 400


def test_me_with_bearer_and_with_cookie(api: InProcessApp,
                                        api_user: Callable) -> None:
    name, token = api_user("developer")
    me = api.http.get(api.url("/api/v1/auth/me"), headers=api.auth(token)).json()
    assert (me["username"], me["role"]) == (name, "developer")
    cookie_me = api.http.get(api.url("/api/v1/auth/me"), cookies={"gantry_session": token})
    assert cookie_me.status_code == 200 and cookie_me.json()["username"] == name


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"},
                                     {"Authorization": "Basic YWRtaW46eA=="},
                                     {"Authorization": "Token abc"}])
def test_missing_or_bad_credentials_are_401(api: InProcessApp, headers: dict) -> None:
    response = api.http.get(api.url("/api/v1/auth/me"), headers=headers)
    assert response.status_code == 401 and response.json()["error"]


@pytest.mark.parametrize("param", ["token", "access_token", "api_key"])
def test_token_in_query_string_is_refused(api: InProcessApp, param: str) -> None:
    response = api.http.get(api.url("/api/v1/auth/me"), params={param: api.admin_token})
    assert response.status_code == 400
    assert "query string" in response.json()["error"]
    # even together with a valid header: the URL must not carry secrets
    response = api.http.get(api.url("/api/v1/auth/me"), params={param: api.admin_token},
                            headers=api.auth())
    assert response.status_code == 400


def test_logout_revokes_the_session_on_the_server(api: InProcessApp,
                                                  api_user: Callable) -> None:
    _, token = api_user("viewer")
    assert api.http.get(api.url("/api/v1/auth/me"), headers=api.auth(token)).status_code == 200
    out = api.http.post(api.url("/api/v1/auth/logout"), headers=api.auth(token))
    assert out.status_code == 200
    assert "gantry_session=" in out.headers["set-cookie"]
    for attempt in (api.auth(token), {}):
        response = api.http.get(api.url("/api/v1/auth/me"), headers=attempt,
                                cookies={} if attempt else {"gantry_session": token})
        assert response.status_code == 401


class TestCookieCrossSiteProtection:
    """Cookie-authenticated writes need this runner's own origin; bearer writes do not."""

    def _post(self, api: InProcessApp, token: str, headers: dict) -> httpx.Response:
        return api.http.post(api.url("/api/v1/history"), cookies={"gantry_session": token},
                             headers=headers, json={"kind": "Service", "name": "payment-api"})

    def test_cookie_write_without_origin_is_403(self, api, api_user) -> None:
        _, token = api_user("viewer")
        response = self._post(api, token, {})
        assert response.status_code == 403 and "cross-site" in response.json()["error"]

    def test_cookie_write_from_another_origin_is_403(self, api, api_user) -> None:
        _, token = api_user("viewer")
        for header in ({"Origin": "https://evil.example"},
                       {"Referer": "https://evil.example/page"},
                       {"Origin": "null", "X-Requested-With": "XMLHttpRequest"},
                       {"Origin": api.base_url.replace("127.0.0.1", "localhost")}):
            assert self._post(api, token, header).status_code == 403, header

    def test_cookie_write_from_own_origin_is_accepted(self, api, api_user) -> None:
        _, token = api_user("viewer")
        for header in ({"Origin": api.base_url},
                       {"Referer": api.url("/catalog/")},
                       {"X-Requested-With": "XMLHttpRequest"}):
            assert self._post(api, token, header).status_code == 201, header

    def test_bearer_write_needs_no_origin(self, api, api_user) -> None:
        _, token = api_user("viewer")
        response = api.http.post(api.url("/api/v1/history"), headers={
            **api.auth(token), "Origin": "https://elsewhere.example"},
            json={"kind": "Service", "name": "payment-api"})
        assert response.status_code == 201

    def test_cookie_reads_need_no_origin(self, api, api_user) -> None:
        _, token = api_user("viewer")
        response = api.http.get(api.url("/api/v1/history"), cookies={"gantry_session": token})
        assert response.status_code == 200


class TestUsers:
    def test_admin_creates_user_who_can_log_in(self, api: InProcessApp) -> None:
        name = unique("carol")
        response = api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(), json={
            "username": name, "password": "long-enough", "role": "platform-engineer",
            "email": "carol@example.com"})
        assert response.status_code == 201
        assert response.json()["role"] == "platform-engineer"
        token = api.login(name, "long-enough")
        me = api.http.get(api.url("/api/v1/auth/me"), headers=api.auth(token)).json()
        assert me["email"] == "carol@example.com"
        listed = api.http.get(api.url("/api/v1/auth/users"), headers=api.auth()).json()
        assert name in [user["username"] for user in listed]
        assert all("password" not in str(user.keys()) for user in listed)

    def test_duplicate_name_is_409_case_insensitively(self, api: InProcessApp) -> None:
        name = unique("dave")
        body = {"username": name, "password": "long-enough", "role": "viewer"}
        assert api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(),
                             json=body).status_code == 201
        again = api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(),
                              json={**body, "username": name.upper()})
        assert again.status_code == 409 and "already exists" in again.json()["error"]

    @pytest.mark.parametrize("body, needle", [
        ({"username": "ok-name", "password": "short", "role": "viewer"}, "8 characters"),
        ({"username": "ok-name", "password": "long-enough", "role": "root"}, "role"),
        ({"username": "../etc", "password": "long-enough", "role": "viewer"}, "username"),
        ({"username": "", "password": "long-enough"}, "username"),
        ({"username": "ok-name", "password": 12345678}, "password"),
        ({"username": "ok-name", "password": "long-enough", "email": "nope"}, "email"),
    ])
    def test_invalid_user_is_400(self, api: InProcessApp, body: dict, needle: str) -> None:
        response = api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(), json=body)
        assert response.status_code == 400 and needle in response.json()["error"]

    def test_user_management_is_admin_only(self, api, api_user) -> None:
        _, token = api_user("platform-engineer")
        body = {"username": unique("eve"), "password": "long-enough", "role": "admin"}
        assert api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(token),
                             json=body).status_code == 403
        assert api.http.get(api.url("/api/v1/auth/users"),
                            headers=api.auth(token)).status_code == 403
        assert api.http.get(api.url("/api/v1/auth/users")).status_code == 401


class TestApiKeys:
    def test_key_is_returned_once_and_works(self, api, api_user) -> None:
        name, token = api_user("developer")
        created = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(token),
                                json={"name": "ci"})
        assert created.status_code == 201
        key = created.json()["key"]
        assert key.startswith("gantry_") and created.json()["role"] == "developer"
        listed = api.http.get(api.url("/api/v1/auth/apikeys"), headers=api.auth(token)).json()
        assert [k["name"] for k in listed] == ["ci"]
        assert key not in str(listed) and all("key" not in k for k in listed)
        me = api.http.get(api.url("/api/v1/auth/me"), headers=api.auth(key)).json()
        assert (me["username"], me["role"]) == (name, "developer")

    def test_key_never_exceeds_its_creator(self, api, api_user) -> None:
        _, token = api_user("developer")
        for role in ("platform-engineer", "admin"):
            response = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(token),
                                     json={"name": "too-much", "role": role})
            assert response.status_code == 403 and "exceed" in response.json()["error"]

    def test_lower_role_key_acts_with_lower_role(self, api: InProcessApp) -> None:
        created = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(),
                                json={"name": unique("viewer-key"), "role": "viewer"})
        key = created.json()["key"]
        assert api.http.get(api.url("/api/v1/audit"), headers=api.auth(key)).status_code == 403
        me = api.http.get(api.url("/api/v1/auth/me"), headers=api.auth(key)).json()
        assert me["role"] == "viewer"

    def test_delete_revokes_and_only_owner_or_admin_may(self, api, api_user) -> None:
        _, owner = api_user("developer")
        _, other = api_user("developer")
        created = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(owner),
                                json={"name": "temp"}).json()
        path = api.url(f"/api/v1/auth/apikeys/{created['id']}")
        assert api.http.delete(path, headers=api.auth(other)).status_code == 404
        assert api.http.delete(path, headers=api.auth(owner)).status_code == 204
        assert api.http.get(api.url("/api/v1/auth/me"),
                            headers=api.auth(created["key"])).status_code == 401
        assert api.http.delete(path, headers=api.auth(owner)).status_code == 404

    def test_admin_lists_every_key_others_may_not(self, api, api_user) -> None:
        name, token = api_user("viewer")
        api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(token),
                      json={"name": "mine"})
        every = api.http.get(api.url("/api/v1/auth/apikeys?all=true"), headers=api.auth())
        assert any(k.get("user") == name for k in every.json())
        assert api.http.get(api.url("/api/v1/auth/apikeys?all=true"),
                            headers=api.auth(token)).status_code == 403

    @pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": 5}, {"name": "x", "role": "god"}])
    def test_invalid_key_request_is_400(self, api: InProcessApp, body: dict) -> None:
        response = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(),
                                 json=body)
        assert response.status_code == 400

    def test_logout_with_an_api_key_is_refused(self, api: InProcessApp) -> None:
        key = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(),
                            json={"name": unique("k")}).json()["key"]
        response = api.http.post(api.url("/api/v1/auth/logout"), headers=api.auth(key))
        assert response.status_code == 400 and "DELETE" in response.json()["error"]


def test_store_holds_no_plain_passwords_tokens_or_keys(api: InProcessApp) -> None:
    password = "a-very-distinct-password-42"
    name = unique("frank")
    api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(),
                  json={"username": name, "password": password, "role": "developer"})
    token = api.login(name, password)
    key = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(token),
                        json={"name": "k"}).json()["key"]
    con = sqlite3.connect(api.data_dir / "gantry.db")
    try:
        dump = "\n".join(con.iterdump())
        hashed = con.execute("SELECT password_hash FROM users WHERE username = ?",
                             (name,)).fetchone()[0]
    finally:
        con.close()
    assert password not in dump and token not in dump and key not in dump
    assert hashed.startswith("scrypt$")


def test_failed_logins_are_limited_per_user_and_address(api: InProcessApp) -> None:
    name = unique("mallory")
    api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(),
                  json={"username": name, "password": "right-password", "role": "viewer"})
    for _ in range(5):
        response = api.http.post(api.url("/api/v1/auth/login"),
                                 json={"username": name, "password": "wrong-password"})
        assert response.status_code == 401
    blocked = api.http.post(api.url("/api/v1/auth/login"),
                            json={"username": name, "password": "right-password"})
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 300
    assert "try again" in blocked.json()["error"]
    # other users from the same address are not affected
    assert api.login("admin", api.admin_password)


def test_users_add_and_apikeys_create_commands_work_while_serving(
        runner: RunnerProcess) -> None:
    name = unique("grace")
    env = {**runner.env}
    added = subprocess.run([str(GANTRY), "users", "add", name, "--role", "developer"],
                           input="cli-password-1\n", env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    assert login(runner.base_url, name, "cli-password-1")
    created = subprocess.run([str(GANTRY), "apikeys", "create", "--user", name, "--name", "ci"],
                             env=env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("gantry_") and "\n" not in key
    me = http.get(runner.url("/api/v1/auth/me"), headers=runner.auth(key)).json()
    assert (me["username"], me["role"]) == (name, "developer")
    too_high = subprocess.run([str(GANTRY), "apikeys", "create", "--user", name, "--name", "x",
                               "--role", "admin"], env=env, capture_output=True, text=True)
    assert too_high.returncode == 2 and "exceed" in too_high.stderr
    weak = subprocess.run([str(GANTRY), "users", "add", unique("h")], input="short\n", env=env,
                          capture_output=True, text=True)
    assert weak.returncode == 2 and "8 characters" in weak.stderr
    missing = subprocess.run([str(GANTRY), "apikeys", "create", "--user", unique("nobody"),
                              "--name", "x"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "no user" in missing.stderr
    listed = subprocess.run([str(GANTRY), "apikeys", "list", "--user", name], env=env,
                            capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert key not in listed.stdout
    (row,) = listed.stdout.splitlines()
    key_id, owner, key_name, role = row.split("\t")[:4]
    assert (owner, key_name, role) == (name, "ci", "developer")
    revoked = subprocess.run([str(GANTRY), "apikeys", "revoke", key_id], env=env,
                             capture_output=True, text=True)
    assert revoked.returncode == 0, revoked.stderr
    # another process: the runner's 5-second credential cache may answer until it expires
    deadline = time.monotonic() + 8
    while (status := http.get(runner.url("/api/v1/auth/me"),
                              headers=runner.auth(key)).status_code) == 200:
        assert time.monotonic() < deadline, "a key revoked by the CLI still works"
        time.sleep(0.2)
    assert status == 401
    again = subprocess.run([str(GANTRY), "apikeys", "revoke", key_id], env=env,
                           capture_output=True, text=True)
    assert again.returncode == 2 and "no key" in again.stderr
