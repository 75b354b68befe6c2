"""Entity events on the WebSocket after writes, and the read-only runner outside Git."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websocket

from tests.support.runner_process import PROJECT_ROOT, RunnerProcess, make_catalog_repo

from .portal import Portal
from .test_write_api import new_service


def next_entity_event(ws: websocket.WebSocket) -> dict:
    while True:
        message = json.loads(ws.recv())
        if message["type"].startswith("entity."):
            return message


def test_writes_publish_created_updated_deleted(portal: Portal) -> None:
    url = portal.runner.base_url.replace("http://", "ws://") + "/api/v1/ws"
    ws = websocket.create_connection(url, timeout=10,
                                     header=[f"Authorization: Bearer {portal.tokens['viewer']}"])
    try:
        ws.send(json.dumps({"action": "subscribe", "channel": "entities"}))
        with portal.client("developer") as client:
            assert client.post("/api/v1/entities",
                               json=new_service("evented")).status_code == 201
            created = next_entity_event(ws)
            assert created["type"] == "entity.created"
            assert created["payload"]["metadata"]["name"] == "evented"
            body = client.get("/api/v1/entities/service/evented").json()
            body["metadata"]["title"] = "Evented"
            assert client.put("/api/v1/entities/service/evented", json=body).status_code \
                == 200
            updated = next_entity_event(ws)
            assert updated["type"] == "entity.updated"
            assert updated["payload"]["metadata"]["title"] == "Evented"
            assert client.delete("/api/v1/entities/service/evented").status_code == 204
            deleted = next_entity_event(ws)
            assert deleted["type"] == "entity.deleted"
            assert deleted["payload"]["metadata"]["name"] == "evented"
    finally:
        ws.close()


@pytest.fixture(scope="module")
def outside_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerProcess]:
    """A runner on a plain folder (no Git) whose catalog also holds an invalid entity."""
    base = tmp_path_factory.mktemp("plain")
    shutil.copytree(PROJECT_ROOT / "catalog", base / "catalog")
    broken = base / "catalog" / "Service" / "default" / "broken.yaml"
    broken.write_text("apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: broken\n"
                      "spec:\n  type: mainframe\n")
    with RunnerProcess(base / "catalog", base / "data") as runner:
        yield runner


def test_outside_git_reads_work_and_writes_are_503(outside_git: RunnerProcess) -> None:
    client = outside_git.client()
    assert client.get("/api/v1/entities/service/payment-api").status_code == 200
    before = sorted(p.name for p in (outside_git.catalog / "Service" / "default").iterdir())
    response = client.post("/api/v1/entities", json=new_service("nope"))
    assert response.status_code == 503
    assert "read-only" in response.json()["error"]
    assert "not inside a Git working tree" in response.json()["error"]
    body = client.get("/api/v1/entities/service/payment-api").json()
    assert client.put("/api/v1/entities/service/payment-api", json=body).status_code == 503
    assert client.delete("/api/v1/entities/service/payment-api").status_code == 503
    after = sorted(p.name for p in (outside_git.catalog / "Service" / "default").iterdir())
    assert before == after
    client.close()


def test_site_is_served_by_the_runner(outside_git: RunnerProcess) -> None:
    page = httpx.get(outside_git.url("/catalog/service/default/payment-api/"), timeout=30)
    assert page.status_code == 200
    assert "payment-api" in page.text


def test_runner_starts_with_an_invalid_catalog(outside_git: RunnerProcess) -> None:
    with outside_git.client() as client:
        assert client.get("/api/v1/entities/service/payment-api").status_code == 200
        assert client.get("/api/v1/entities/service/broken").status_code == 200
    assert "broken.yaml" in outside_git.log()


def test_writes_survive_a_restart_on_the_same_data_dir(tmp_path: Path) -> None:
    repo = make_catalog_repo(tmp_path / "repo")
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner, runner.client() as client:
        assert client.post("/api/v1/entities",
                           json=new_service("restarted")).status_code == 201
        body = client.get("/api/v1/entities/service/payment-api").json()
        body["metadata"]["title"] = "Payment API (renamed)"
        assert client.put("/api/v1/entities/service/payment-api", json=body).status_code == 200
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner, runner.client() as client:
        assert client.get("/api/v1/entities/service/restarted").status_code == 200
        title = client.get("/api/v1/entities/service/payment-api").json()["metadata"]["title"]
        assert title == "Payment API (renamed)"
        hits = client.get("/api/v1/search", params={"q": "restarted"}).json()
        assert hits and hits[0]["name"] == "restarted"
