"""The audit log over HTTP: logins (good and bad) and writes, newest first, admin only."""

from __future__ import annotations

import pytest

from tests.runner.conftest import unique
from tests.runner.inprocess import InProcessApp

FIELDS = {"id", "timestamp", "userName", "action", "resourceType", "resourceName", "source",
          "ipAddress", "before", "after", "commit"}


def audit(api: InProcessApp, **params: int) -> list[dict]:
    response = api.http.get(api.url("/api/v1/audit"), headers=api.auth(), params=params)
    assert response.status_code == 200
    return response.json()


def test_logins_and_failures_are_audited_with_address(api: InProcessApp) -> None:
    name = unique("ivy")
    api.http.post(api.url("/api/v1/auth/users"), headers=api.auth(),
                  json={"username": name, "password": "ivy-password", "role": "viewer"})
    api.http.post(api.url("/api/v1/auth/login"), json={"username": name, "password": "nope-nope"})
    api.login(name, "ivy-password")
    mine = [e for e in audit(api, limit=500) if e["resourceName"] == name]
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


def test_newest_first_with_limit_and_offset(api: InProcessApp) -> None:
    for _ in range(3):
        api.login("admin", api.admin_password)
    everything = audit(api, limit=500)
    stamps = [e["timestamp"] for e in everything]
    assert stamps == sorted(stamps, reverse=True)
    page = audit(api, limit=2, offset=1)
    assert [e["id"] for e in page] == [e["id"] for e in everything[1:3]]


@pytest.mark.parametrize("params", [{"limit": "x"}, {"limit": 0}, {"limit": 2**31},
                                    {"offset": -1}])
def test_bad_paging_is_400(api: InProcessApp, params: dict) -> None:
    response = api.http.get(api.url("/api/v1/audit"), headers=api.auth(), params=params)
    assert response.status_code == 400 and response.json()["error"]


def test_audit_is_admin_only(api: InProcessApp, api_user) -> None:
    _, token = api_user("platform-engineer")
    assert api.http.get(api.url("/api/v1/audit"), headers=api.auth(token)).status_code == 403
    assert api.http.get(api.url("/api/v1/audit")).status_code == 401


def test_api_key_lifecycle_is_audited_without_the_key(api: InProcessApp) -> None:
    name = unique("audited-key")
    created = api.http.post(api.url("/api/v1/auth/apikeys"), headers=api.auth(),
                            json={"name": name}).json()
    api.http.delete(api.url(f"/api/v1/auth/apikeys/{created['id']}"), headers=api.auth())
    entries = [e for e in audit(api, limit=100) if e["resourceName"] == name]
    assert [e["action"] for e in entries] == ["delete", "create"]
    assert created["key"] not in str(entries)
