"""The audit log over HTTP: logins (good and bad) and writes, newest first, admin only."""

from __future__ import annotations

import pytest

from tests.runner.conftest import unique
from tests.support.runner_process import RunnerProcess, http, login

FIELDS = {"id", "timestamp", "userName", "action", "resourceType", "resourceName", "source",
          "ipAddress", "before", "after", "commit"}


def audit(runner: RunnerProcess, **params: int) -> list[dict]:
    response = http.get(runner.url("/api/v1/audit"), headers=runner.auth(), params=params)
    assert response.status_code == 200
    return response.json()


def test_logins_and_failures_are_audited_with_address(runner: RunnerProcess) -> None:
    name = unique("ivy")
    http.post(runner.url("/api/v1/auth/users"), headers=runner.auth(),
               json={"username": name, "password": "ivy-password", "role": "viewer"})
    http.post(runner.url("/api/v1/auth/login"), json={"username": name, "password": "nope-nope"})
    login(runner.base_url, name, "ivy-password")
    mine = [e for e in audit(runner, limit=500) if e["resourceName"] == name]
    actions = [e["action"] for e in mine]
    assert actions[:3] == ["login", "login.failed", "create"]
    for entry in mine:
        assert FIELDS <= set(entry)
        assert entry["ipAddress"] == "127.0.0.1"
        assert entry["source"] == "api"
        assert entry["timestamp"].endswith("Z")
    created = mine[2]
    assert created["userName"] == "admin" and created["resourceType"] == "User"
    assert created["after"] == {"username": name, "role": "viewer", "email": None}
    assert "password" not in str(created)


def test_newest_first_with_limit_and_offset(runner: RunnerProcess) -> None:
    for _ in range(3):
        login(runner.base_url, "admin", runner.admin_password)
    everything = audit(runner, limit=500)
    stamps = [e["timestamp"] for e in everything]
    assert stamps == sorted(stamps, reverse=True)
    page = audit(runner, limit=2, offset=1)
    assert [e["id"] for e in page] == [e["id"] for e in everything[1:3]]


@pytest.mark.parametrize("params", [{"limit": "x"}, {"limit": 0}, {"limit": 2**31},
                                    {"offset": -1}])
def test_bad_paging_is_400(runner: RunnerProcess, params: dict) -> None:
    response = http.get(runner.url("/api/v1/audit"), headers=runner.auth(), params=params)
    assert response.status_code == 400 and response.json()["error"]


def test_audit_is_admin_only(runner: RunnerProcess, make_user) -> None:
    _, token = make_user("platform-engineer")
    assert http.get(runner.url("/api/v1/audit"), headers=runner.auth(token)).status_code == 403
    assert http.get(runner.url("/api/v1/audit")).status_code == 401


def test_api_key_lifecycle_is_audited_without_the_key(runner: RunnerProcess) -> None:
    name = unique("audited-key")
    created = http.post(runner.url("/api/v1/auth/apikeys"), headers=runner.auth(),
                         json={"name": name}).json()
    http.delete(runner.url(f"/api/v1/auth/apikeys/{created['id']}"), headers=runner.auth())
    entries = [e for e in audit(runner, limit=100) if e["resourceName"] == name]
    assert [e["action"] for e in entries] == ["delete", "create"]
    assert created["key"] not in str(entries)
