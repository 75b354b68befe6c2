"""Each user's recently viewed entities: newest first, no duplicates, at most 20."""

from __future__ import annotations

import httpx
import pytest

from tests.support.runner_process import RunnerProcess, http


def view(runner: RunnerProcess, token: str, name: str, kind: str = "Service",
         **extra: str) -> httpx.Response:
    return http.post(runner.url("/api/v1/history"), headers=runner.auth(token),
                      json={"kind": kind, "name": name, **extra})


def history(runner: RunnerProcess, token: str, **params: int) -> list[dict]:
    response = http.get(runner.url("/api/v1/history"), headers=runner.auth(token),
                         params=params)
    assert response.status_code == 200
    return response.json()


def test_most_recent_first_and_deduplicated(runner: RunnerProcess, make_user) -> None:
    _, token = make_user("viewer")
    for name in ("a-one", "b-two", "a-one"):
        assert view(runner, token, name).status_code == 201
    entries = history(runner, token)
    assert [e["name"] for e in entries] == ["a-one", "b-two"]
    assert entries[0]["namespace"] == "default" and entries[0]["kind"] == "Service"


def test_keeps_twenty_and_honours_limit(runner: RunnerProcess, make_user) -> None:
    _, token = make_user("viewer")
    for i in range(25):
        view(runner, token, f"svc-{i}")
    entries = history(runner, token)
    assert len(entries) == 20
    assert entries[0]["name"] == "svc-24" and entries[-1]["name"] == "svc-5"
    assert [e["name"] for e in history(runner, token, limit=3)] == ["svc-24", "svc-23", "svc-22"]


def test_history_is_per_user(runner: RunnerProcess, make_user) -> None:
    _, first = make_user("viewer")
    _, second = make_user("developer")
    view(runner, first, "only-mine")
    assert history(runner, second) == []


def test_namespaces_are_distinct_entries(runner: RunnerProcess, make_user) -> None:
    _, token = make_user("viewer")
    view(runner, token, "same", namespace="default")
    view(runner, token, "same", namespace="payments")
    assert [e["namespace"] for e in history(runner, token)] == ["payments", "default"]


@pytest.mark.parametrize("body", [
    {"name": "x"}, {"kind": "Service"}, {"kind": "Service", "name": "Not_Valid"},
    {"kind": "../etc", "name": "x"}, {"kind": "Service", "name": "x", "namespace": "A B"},
    {"kind": 5, "name": "x"},
])
def test_invalid_view_is_400(runner: RunnerProcess, body: dict) -> None:
    response = http.post(runner.url("/api/v1/history"), headers=runner.auth(), json=body)
    assert response.status_code == 400 and response.json()["error"]


def test_limit_above_what_is_kept_answers_what_is_kept(runner: RunnerProcess,
                                                        make_user) -> None:
    _, busy = make_user("viewer")
    for i in range(23):
        view(runner, busy, f"seen-{i}")
    kept = history(runner, busy)
    assert len(kept) == 20 and kept[0]["name"] == "seen-22"
    for limit in (21, 50, 4096, 2**31 - 1):
        assert history(runner, busy, limit=limit) == kept, limit
    _, quiet = make_user("developer")
    for name in ("only-one", "and-two"):
        view(runner, quiet, name)
    assert [e["name"] for e in history(runner, quiet, limit=50)] == ["and-two", "only-one"]


@pytest.mark.parametrize("limit", ["0", "-3", "-21", "many", "2.5", "1e3", str(2**31), str(2**64)])
def test_bad_limit_is_400(runner: RunnerProcess, limit: str) -> None:
    response = http.get(runner.url("/api/v1/history"), headers=runner.auth(),
                         params={"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_history_needs_credentials(runner: RunnerProcess) -> None:
    assert http.get(runner.url("/api/v1/history")).status_code == 401
