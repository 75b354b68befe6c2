"""The WebSocket: refused with 401 before the upgrade without valid credentials; events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import websocket

from tests.runner.conftest import unique
from tests.support.runner_process import RunnerProcess, http


def ws_url(runner: RunnerProcess, suffix: str = "") -> str:
    return runner.base_url.replace("http://", "ws://") + "/api/v1/ws" + suffix


def connect(runner: RunnerProcess, **kwargs) -> websocket.WebSocket:
    ws = websocket.create_connection(ws_url(runner), timeout=10, **kwargs)
    hello = json.loads(ws.recv())
    assert hello["type"] == "connected"
    return ws


def refused_status(runner: RunnerProcess, suffix: str = "", **kwargs) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        websocket.create_connection(ws_url(runner, suffix), timeout=10, **kwargs)
    return caught.value.status_code


def test_handshake_without_credentials_is_401(runner: RunnerProcess) -> None:
    assert refused_status(runner) == 401


def test_handshake_with_bad_bearer_is_401(runner: RunnerProcess) -> None:
    assert refused_status(runner, header=["Authorization: Bearer not-a-token"]) == 401


def test_token_in_query_string_is_refused(runner: RunnerProcess) -> None:
    assert refused_status(runner, f"?token={runner.admin_token}") == 400


def test_cookie_from_another_origin_is_401(runner: RunnerProcess) -> None:
    status = refused_status(runner, cookie=f"gantry_session={runner.admin_token}",
                            origin="https://evil.example")
    assert status == 401


def test_cookie_from_own_origin_is_accepted(runner: RunnerProcess,
                                            make_user: Callable[[str], tuple[str, str]]) -> None:
    name, token = make_user("viewer")
    ws = websocket.create_connection(ws_url(runner), timeout=10,
                                     cookie=f"gantry_session={token}", origin=runner.base_url)
    try:
        hello = json.loads(ws.recv())
        assert hello["type"] == "connected" and hello["payload"]["user"] == name
        created = unique("ws-cookie")
        assert http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                         json=entity(created)).status_code == 201
        assert receive_until(ws, "entity.created")["payload"]["metadata"]["name"] == created
    finally:
        ws.close()


def test_plain_get_is_not_upgraded(runner: RunnerProcess) -> None:
    response = http.get(runner.url("/api/v1/ws"), headers=runner.auth())
    assert response.status_code == 400 and response.json()["error"]


def entity(name: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "description": "made by the WebSocket test"},
            "spec": {"type": "backend", "lifecycle": "development"}}


def receive_until(ws: websocket.WebSocket, wanted: str, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if message["type"] == wanted:
            return message
    raise AssertionError(f"no {wanted} message")


def test_entity_events_reach_bearer_clients(runner: RunnerProcess) -> None:
    ws = connect(runner, header=[f"Authorization: Bearer {runner.admin_token}"])
    try:
        name = unique("ws-svc")
        created = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                            json=entity(name))
        assert created.status_code == 201, created.text
        message = receive_until(ws, "entity.created")
        assert message["payload"]["metadata"]["name"] == name
        assert set(message) == {"type", "payload"}
        deleted = http.delete(runner.url(f"/api/v1/entities/service/{name}"),
                              headers=runner.auth())
        assert deleted.status_code == 204
        assert receive_until(ws, "entity.deleted")["payload"]["metadata"]["name"] == name
    finally:
        ws.close()


def test_subscription_narrows_the_stream(runner: RunnerProcess) -> None:
    ws = connect(runner, header=[f"Authorization: Bearer {runner.admin_token}"])
    try:
        ws.send(json.dumps({"action": "subscribe", "channel": "actions"}))
        reply = json.loads(ws.recv())
        assert reply == {"type": "subscribed",
                         "payload": {"channel": "actions", "channels": ["actions"]}}
        name = unique("ws-quiet")
        assert http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                         json=entity(name)).status_code == 201
        ws.send(json.dumps({"action": "ping"}))
        ws.settimeout(5)
        assert json.loads(ws.recv())["type"] == "pong"  # no entity event came before it
        ws.send(json.dumps({"action": "subscribe", "channel": "entities"}))
        assert json.loads(ws.recv())["payload"]["channels"] == ["actions", "entities"]
        http.delete(runner.url(f"/api/v1/entities/service/{name}"), headers=runner.auth())
        assert receive_until(ws, "entity.deleted")["payload"]["metadata"]["name"] == name
    finally:
        ws.close()


@pytest.mark.parametrize("message, needle", [
    ("not json", "malformed"), ("[1]", "object"),
    (json.dumps({"action": "subscribe", "channel": "secrets"}), "channel"),
    (json.dumps({"action": "dance"}), "action"),
])
def test_bad_client_messages_get_an_error_message(runner: RunnerProcess, message: str,
                                                  needle: str) -> None:
    ws = connect(runner, header=[f"Authorization: Bearer {runner.admin_token}"])
    try:
        ws.send(message)
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and needle in reply["payload"]["message"]
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv())["type"] == "pong"
    finally:
        ws.close()


def test_connections_are_counted_in_metrics(runner: RunnerProcess) -> None:
    from tests.runner.test_health import metric_value

    def gauge() -> float:
        return metric_value(http.get(runner.url("/metrics")).text,
                            "gantry_websocket_connections")

    ws = connect(runner, header=[f"Authorization: Bearer {runner.admin_token}"])
    during = gauge()
    assert during >= 1
    ws.close()
    deadline = time.monotonic() + 5
    while gauge() > during - 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gauge() <= during - 1
