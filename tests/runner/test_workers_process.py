"""`gantry serve --workers 2` on the SQLite store: every worker answers with the latest
catalog, of two conflicting writes on two workers one wins, WebSocket clients get every
worker's events, and a run is executed once whichever worker is asked. Real processes
(gunicorn's own workers), a real Git clone, real DuckDB files; every request opens a new
connection, so the kernel hands requests to both workers."""

from __future__ import annotations

import json
import threading
import time

import pytest
import websocket

from tests.actions.fakes.webhook_receiver import WebhookReceiver
from tests.runner.test_replicas_process import hook_action, wait_for_status
from tests.runner.test_replicas_writes import service
from tests.support.runner_process import RunnerProcess, http, login, make_catalog_repo

WORKERS = 2
ATTEMPTS = 60


def answered_by(response) -> str:
    assert "X-Gantry-Worker" in response.headers, response.headers
    return response.headers["X-Gantry-Worker"]


def on_every_worker(runner: RunnerProcess, path: str, check, **params) -> None:
    """GET `path` on new connections until each worker has answered; `check` every body."""
    seen: set[str] = set()
    for _ in range(ATTEMPTS):
        response = http.get(runner.url(path), headers=runner.auth(), params=params)
        assert response.status_code == 200, response.text
        check(response.json(), answered_by(response))
        seen.add(answered_by(response))
        if len(seen) == WORKERS:
            return
    pytest.fail(f"only worker(s) {seen} answered {ATTEMPTS} new connections")


@pytest.fixture
def runner(tmp_path):
    with WebhookReceiver() as hook:
        files = {"catalog/Action/default/approved-hook.yaml":
                 hook_action("approved-hook", hook.url, approver="approver")}
        repo = make_catalog_repo(tmp_path / "repo", extra_files=files)
        started = RunnerProcess(repo / "catalog", tmp_path / "data", workers=WORKERS)
        started.start()
        started.hook = hook
        try:
            yield started
        finally:
            started.stop()


@pytest.mark.timeout(300)
def test_writes_on_any_worker_are_read_and_announced_by_every_worker(runner) -> None:
    writes_are_read_and_announced_everywhere(runner)


@pytest.mark.timeout(300)
def test_workers_on_postgresql_relay_over_notify(tmp_path, pg_url) -> None:
    repo = make_catalog_repo(tmp_path / "repo")
    runner = RunnerProcess(repo / "catalog", tmp_path / "data", workers=WORKERS,
                           env={"GANTRY_DATABASE_URL": pg_url})
    runner.start()
    try:
        writes_are_read_and_announced_everywhere(runner)
    finally:
        runner.stop()


def writes_are_read_and_announced_everywhere(runner: RunnerProcess) -> None:
    ws = websocket.create_connection(
        runner.base_url.replace("http://", "ws://") + "/api/v1/ws", timeout=10,
        header=[f"Authorization: Bearer {runner.admin_token}"])
    assert json.loads(ws.recv())["type"] == "connected"
    try:
        writers: set[str] = set()
        names: list[str] = []
        for number in range(ATTEMPTS):
            name = f"multi-worker-{number}"
            created = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                                json=service(name, f"written by worker test {number}"))
            assert created.status_code == 201, created.text
            writers.add(answered_by(created))
            names.append(name)

            def is_there(body, worker, name=name):
                assert body["metadata"]["name"] == name, (worker, body)

            on_every_worker(runner, f"/api/v1/entities/service/{name}", is_there)

            def found(body, worker, name=name):
                assert name in [hit["name"] for hit in body], (worker, body)

            on_every_worker(runner, "/api/v1/search", found, q=name)
            if len(writers) == WORKERS and number >= 2:
                break
        assert writers == {str(n) for n in range(WORKERS)}, "one worker answered every write"
        announced: list[str] = []
        ws.settimeout(10)
        while len(announced) < len(names):
            message = json.loads(ws.recv())
            if message["type"] == "entity.created":
                announced.append(message["payload"]["metadata"]["name"])
        assert announced == names
    finally:
        ws.close()


@pytest.mark.timeout(300)
def test_conflicting_writes_on_two_workers_end_in_one_success(runner) -> None:
    path = "/api/v1/entities/service/payment-api"
    for attempt in range(ATTEMPTS):
        current = http.get(runner.url(path), headers=runner.auth())
        etag, body = current.headers["ETag"], current.json()
        results: list = []

        def put(title: str, body=body, etag=etag, results=results) -> None:
            changed = {**body, "metadata": {**body["metadata"], "title": title}}
            results.append(http.put(runner.url(path), headers={**runner.auth(),
                                    "If-Match": etag}, json=changed))

        threads = [threading.Thread(target=put, args=(f"Title {attempt}-{n}",))
                   for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(r.status_code for r in results) == [200, 409], \
            [(r.status_code, r.text) for r in results]
        if {answered_by(r) for r in results} == {"0", "1"}:
            winner = next(r for r in results if r.status_code == 200).json()
            title = winner["metadata"]["title"]

            def has_title(body, worker, title=title):
                assert body["metadata"]["title"] == title, worker

            on_every_worker(runner, path, has_title)
            return
    pytest.fail("the two writes never landed on two different workers")


@pytest.mark.timeout(300)
def test_a_run_asked_on_one_worker_is_approved_on_another_and_executed_once(runner) -> None:
    runner.create_user("approver", "developer")
    approver = login(runner.base_url, "approver", "password-123")
    runs = 0
    for _ in range(ATTEMPTS):
        asked = http.post(runner.url("/api/v1/actions/approved-hook/execute"),
                          headers=runner.auth(), json={"inputs": {}})
        assert asked.status_code == 201, asked.text
        run_id = asked.json()["id"]
        runs += 1
        decided = http.post(runner.url(f"/api/v1/actions/approved-hook/runs/{run_id}/approve"),
                            headers=runner.auth(approver), json={})
        assert decided.status_code == 200, decided.text
        assert wait_for_status(runner, "approved-hook", run_id)["status"] == "success"
        if answered_by(asked) != answered_by(decided):
            break
    else:
        pytest.fail("asking and approving never landed on two different workers")
    time.sleep(1.0)  # a second execution would arrive now
    keys = [r.headers["Idempotency-Key"] for r in runner.hook.requests]
    assert len(keys) == len(set(keys)) == runs


@pytest.mark.timeout(300)
def test_a_logout_on_one_worker_ends_the_session_on_every_worker(runner) -> None:
    token = runner.create_user("leaving", "viewer")
    seen: set[str] = set()
    for _ in range(ATTEMPTS):  # both workers have the session in their credential cache
        response = http.get(runner.url("/api/v1/auth/me"), headers=runner.auth(token))
        assert response.status_code == 200, response.text
        seen.add(answered_by(response))
        if len(seen) == WORKERS:
            break
    assert len(seen) == WORKERS
    ended = http.post(runner.url("/api/v1/auth/logout"), headers=runner.auth(token))
    assert ended.status_code in (200, 204), ended.text
    refused: set[str] = set()
    for _ in range(ATTEMPTS):
        response = http.get(runner.url("/api/v1/auth/me"), headers=runner.auth(token))
        assert response.status_code == 401, (answered_by(response), response.text)
        refused.add(answered_by(response))
        if len(refused) == WORKERS:
            return
    pytest.fail(f"only worker(s) {refused} answered")
