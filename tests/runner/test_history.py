"""Each user's recently viewed entities: newest first, no duplicates, at most 20."""

from __future__ import annotations

import httpx
import pytest

from tests.runner.inprocess import InProcessApp


def view(api: InProcessApp, token: str, name: str, kind: str = "Service",
         **extra: str) -> httpx.Response:
    return api.http.post(api.url("/api/v1/history"), headers=api.auth(token),
                         json={"kind": kind, "name": name, **extra})


def history(api: InProcessApp, token: str, **params: int) -> list[dict]:
    response = api.http.get(api.url("/api/v1/history"), headers=api.auth(token),
                            params=params)
    assert response.status_code == 200
    return response.json()


def test_most_recent_first_and_deduplicated(api: InProcessApp, api_user) -> None:
    _, token = api_user("viewer")
    for name in ("a-one", "b-two", "a-one"):
        assert view(api, token, name).status_code == 201
    entries = history(api, token)
    assert [e["name"] for e in entries] == ["a-one", "b-two"]
    assert entries[0]["namespace"] == "default" and entries[0]["kind"] == "Service"


def test_keeps_twenty_and_honours_limit(api: InProcessApp, api_user) -> None:
    _, token = api_user("viewer")
    for i in range(25):
        view(api, token, f"svc-{i}")
    entries = history(api, token)
    assert len(entries) == 20
    assert entries[0]["name"] == "svc-24" and entries[-1]["name"] == "svc-5"
    assert [e["name"] for e in history(api, token, limit=3)] == ["svc-24", "svc-23", "svc-22"]


def test_history_is_per_user(api: InProcessApp, api_user) -> None:
    _, first = api_user("viewer")
    _, second = api_user("developer")
    view(api, first, "only-mine")
    assert history(api, second) == []


def test_namespaces_are_distinct_entries(api: InProcessApp, api_user) -> None:
    _, token = api_user("viewer")
    view(api, token, "same", namespace="default")
    view(api, token, "same", namespace="payments")
    assert [e["namespace"] for e in history(api, token)] == ["payments", "default"]


@pytest.mark.parametrize("body", [
    {"name": "x"}, {"kind": "Service"}, {"kind": "Service", "name": "Not_Valid"},
    {"kind": "../etc", "name": "x"}, {"kind": "Service", "name": "x", "namespace": "A B"},
    {"kind": 5, "name": "x"},
])
def test_invalid_view_is_400(api: InProcessApp, body: dict) -> None:
    response = api.http.post(api.url("/api/v1/history"), headers=api.auth(), json=body)
    assert response.status_code == 400 and response.json()["error"]


def test_limit_above_what_is_kept_answers_what_is_kept(api: InProcessApp, api_user) -> None:
    _, busy = api_user("viewer")
    for i in range(23):
        view(api, busy, f"seen-{i}")
    kept = history(api, busy)
    assert len(kept) == 20 and kept[0]["name"] == "seen-22"
    for limit in (21, 50, 4096, 2**31 - 1):
        assert history(api, busy, limit=limit) == kept, limit
    _, quiet = api_user("developer")
    for name in ("only-one", "and-two"):
        view(api, quiet, name)
    assert [e["name"] for e in history(api, quiet, limit=50)] == ["and-two", "only-one"]


@pytest.mark.parametrize("limit", ["0", "-3", "-21", "many", "2.5", "1e3", str(2**31), str(2**64)])
def test_bad_limit_is_400(api: InProcessApp, limit: str) -> None:
    response = api.http.get(api.url("/api/v1/history"), headers=api.auth(),
                            params={"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_history_needs_credentials(api: InProcessApp) -> None:
    assert api.http.get(api.url("/api/v1/history")).status_code == 401
