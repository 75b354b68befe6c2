"""An open WebSocket lives no longer than the credential it was opened with.

Logout, API-key revocation (through the API or by another process), session expiry, a
removed user and a lowered role end the caller's sockets with close code 4401 within 5
seconds, and nothing written after the revocation reaches them. Other credentials keep
their sockets and keep receiving events.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import websocket

from runner.auth import tokens
from runner.events import EventBus
from tests.runner.conftest import unique
from tests.support.runner_process import GANTRY, RunnerProcess, http, login

PASSWORD = "password-123"
CLOSE_DEADLINE = 5.0
REVOKED_CODES = (4401, 1008)
RECHECK_WINDOW = 5.0
_revision = itertools.count()


def ws_url(runner: RunnerProcess) -> str:
    return runner.base_url.replace("http://", "ws://") + "/api/v1/ws"


def open_socket(runner: RunnerProcess, *, bearer: str | None = None,
                cookie: str | None = None) -> websocket.WebSocket:
    """A connected socket (after its `connected` message), by bearer or same-origin cookie."""
    options: dict = {}
    if bearer is not None:
        options["header"] = [f"Authorization: Bearer {bearer}"]
    if cookie is not None:
        options.update(cookie=f"gantry_session={cookie}", origin=runner.base_url)
    ws = websocket.create_connection(ws_url(runner), timeout=10, **options)
    hello = json.loads(ws.recv())
    assert hello["type"] == "connected", hello
    return ws


def handshake_status(runner: RunnerProcess, suffix: str = "", **options) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        websocket.create_connection(ws_url(runner) + suffix, timeout=10, **options)
    return caught.value.status_code


@pytest.fixture
def sockets() -> Iterator[list[websocket.WebSocket]]:
    """Sockets opened by a test, closed at its end whatever happened."""
    opened: list[websocket.WebSocket] = []
    yield opened
    for ws in opened:
        try:
            ws.close(timeout=1)
        except Exception:  # already closed by the runner
            pass


@pytest.fixture
def target(runner: RunnerProcess) -> str:
    """A Service the test updates (as admin) to make entity events."""
    name = unique("ws-revoke")
    created = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                        json=service(name, "created"))
    assert created.status_code == 201, created.text
    return name


def service(name: str, description: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "description": description},
            "spec": {"type": "backend", "lifecycle": "development"}}


def update(runner: RunnerProcess, name: str) -> str:
    """Update the Service as admin; returns the new description, to recognise its event."""
    description = f"revision {next(_revision)}"
    response = http.put(runner.url(f"/api/v1/entities/service/{name}"), headers=runner.auth(),
                        json=service(name, description))
    assert response.status_code == 200, response.text
    return description


def run_action(runner: RunnerProcess, name: str) -> str:
    """Run the example catalog's `set-lifecycle` on the Service as admin; returns the run id."""
    response = http.post(runner.url("/api/v1/actions/set-lifecycle/execute"),
                         headers=runner.auth(),
                         json={"inputs": {"service": name, "lifecycle": "production"}})
    assert response.status_code in (200, 201, 202), response.text
    return response.json()["id"]


def run_event(ws: websocket.WebSocket, run_id: str, seconds: float = 10) -> dict:
    """The next `action.run.*` message about run `run_id`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if message["type"].startswith("action.run.") and message["payload"]["id"] == run_id:
            return message
    raise AssertionError(f"no event about run {run_id} within {seconds} s")


def next_event(ws: websocket.WebSocket, name: str, seconds: float = 10) -> dict:
    """The next `entity.*` message about `name` (fails if the socket closes first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise AssertionError(f"socket closed instead of an event: {close_code(frame)}")
        if opcode != websocket.ABNF.OPCODE_TEXT:
            continue
        message = json.loads(frame.data)
        if message["type"].startswith("entity.") and \
                message["payload"]["metadata"]["name"] == name:
            return message
    raise AssertionError(f"no event about {name} within {seconds} s")


def close_code(frame: websocket.ABNF) -> tuple[int, str]:
    data = frame.data or b""
    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
    return code, data[2:].decode("utf-8", "replace")


def until_close(ws: websocket.WebSocket, since: float,
                seconds: float = CLOSE_DEADLINE) -> tuple[int, str, list[dict], float]:
    """Read until the runner closes the socket: (code, reason, messages before it, delay).

    `delay` is measured from `since` (the moment the credential ended).
    """
    messages: list[dict] = []
    deadline = since + seconds + 1
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            opcode, frame = ws.recv_data_frame(control_frame=True)
        except websocket.WebSocketTimeoutException:
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code, reason = close_code(frame)
            return code, reason, messages, time.monotonic() - since
        if opcode == websocket.ABNF.OPCODE_TEXT:
            messages.append(json.loads(frame.data))
    raise AssertionError(f"the socket was not closed within {seconds} s; got {messages}")


def assert_revoked(ws: websocket.WebSocket, since: float) -> str:
    """The socket closes with 4401/1008 within 5 s and delivered no catalog or run event."""
    code, reason, messages, delay = until_close(ws, since)
    assert code in REVOKED_CODES, (code, reason)
    assert delay < CLOSE_DEADLINE, delay
    leaked = [m for m in messages if m["type"].startswith(("entity.", "action."))]
    assert leaked == [], leaked
    return reason


def assert_keeps_receiving(runner: RunnerProcess, name: str,
                           *open_sockets: websocket.WebSocket,
                           seconds: float = RECHECK_WINDOW) -> None:
    """For `seconds` (longer than any re-check), every update reaches every socket."""
    started = time.monotonic()
    while True:
        description = update(runner, name)
        for ws in open_sockets:
            message = next_event(ws, name)
            while message["payload"]["metadata"]["description"] != description:
                message = next_event(ws, name)
            assert message["type"] == "entity.updated"
        if time.monotonic() - started >= seconds:
            return


def create_key(runner: RunnerProcess, token: str, name: str = "ws") -> dict:
    response = http.post(runner.url("/api/v1/auth/apikeys"), headers=runner.auth(token),
                         json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def logout(runner: RunnerProcess, token: str, via: str) -> None:
    if via == "bearer":
        response = http.post(runner.url("/api/v1/auth/logout"), headers=runner.auth(token))
    else:
        response = http.post(runner.url("/api/v1/auth/logout"), cookies={"gantry_session": token},
                             headers={"Origin": runner.base_url})
    assert response.status_code == 200, response.text


def store(runner: RunnerProcess) -> sqlite3.Connection:
    """A connection of this (test) process to the runner's store, as an operator would open."""
    return sqlite3.connect(runner.data_dir / "gantry.db", timeout=10, isolation_level=None)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def set_session_expiry(runner: RunnerProcess, token: str, moment: datetime) -> None:
    conn = store(runner)
    try:
        changed = conn.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
                               (iso(moment), tokens.token_hash(token))).rowcount
    finally:
        conn.close()
    assert changed == 1


@pytest.mark.parametrize("via", ["bearer", "cookie"])
def test_logout_closes_every_socket_of_that_session(
        runner: RunnerProcess, make_user: Callable, target: str,
        sockets: list, via: str) -> None:
    name, token = make_user("developer")
    other_session = login(runner.base_url, name, PASSWORD)
    by_bearer = open_socket(runner, bearer=token)
    by_cookie = open_socket(runner, cookie=token)
    same_user_other_session = open_socket(runner, cookie=other_session)
    admin = open_socket(runner, bearer=runner.admin_token)
    sockets += [by_bearer, by_cookie, same_user_other_session, admin]

    logout(runner, token, via)
    revoked_at = time.monotonic()
    update(runner, target)
    run_id = run_action(runner, target)

    for ws in (by_bearer, by_cookie):
        assert "log in again" in assert_revoked(ws, revoked_at)
    assert next_event(same_user_other_session, target)["type"] == "entity.updated"
    assert next_event(admin, target)["type"] == "entity.updated"
    assert run_event(admin, run_id)["type"] == "action.run.created"
    assert handshake_status(runner, header=[f"Authorization: Bearer {token}"]) == 401
    assert handshake_status(runner, cookie=f"gantry_session={token}",
                            origin=runner.base_url) == 401


def test_another_users_logout_leaves_this_socket_open(
        runner: RunnerProcess, make_user: Callable, target: str, sockets: list) -> None:
    _, token = make_user("viewer")
    _, stranger = make_user("viewer")
    mine = open_socket(runner, bearer=token)
    theirs = open_socket(runner, cookie=stranger)
    sockets += [mine, theirs]

    logout(runner, stranger, "cookie")
    revoked_at = time.monotonic()
    assert_revoked(theirs, revoked_at)
    assert_keeps_receiving(runner, target, mine)


@pytest.mark.parametrize("revoker", ["owner", "admin"])
def test_deleted_api_key_closes_its_sockets_only(
        runner: RunnerProcess, make_user: Callable, target: str, sockets: list,
        revoker: str) -> None:
    _, token = make_user("developer")
    doomed, kept = create_key(runner, token, "doomed"), create_key(runner, token, "kept")
    by_doomed = open_socket(runner, bearer=doomed["key"])
    again_doomed = open_socket(runner, bearer=doomed["key"])
    by_kept = open_socket(runner, bearer=kept["key"])
    by_session = open_socket(runner, bearer=token)
    sockets += [by_doomed, again_doomed, by_kept, by_session]

    deleted = http.delete(runner.url(f"/api/v1/auth/apikeys/{doomed['id']}"),
                          headers=runner.auth(token if revoker == "owner" else None))
    assert deleted.status_code == 204, deleted.text
    revoked_at = time.monotonic()
    update(runner, target)

    for ws in (by_doomed, again_doomed):
        assert "revoked" in assert_revoked(ws, revoked_at)
    assert handshake_status(runner, header=[f"Authorization: Bearer {doomed['key']}"]) == 401
    assert_keeps_receiving(runner, target, by_kept, by_session)


def test_key_revoked_by_another_process_closes_its_socket(
        runner: RunnerProcess, target: str, sockets: list) -> None:
    name = unique("cli")
    added = subprocess.run([str(GANTRY), "users", "add", name, "--role", "platform-engineer"],
                           input=f"{PASSWORD}\n", env=runner.env, capture_output=True,
                           text=True)
    assert added.returncode == 0, added.stderr
    created = subprocess.run([str(GANTRY), "apikeys", "create", "--user", name,
                              "--name", "pipeline"], env=runner.env, capture_output=True,
                             text=True)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    key_id = created.stderr.split("(id ", 1)[1].split(",", 1)[0]
    ws = open_socket(runner, bearer=key)
    bystander = open_socket(runner, bearer=runner.admin_token)
    sockets += [ws, bystander]
    # The runner has just resolved (and cached) this key for the handshake.
    assert http.get(runner.url("/api/v1/auth/me"), headers=runner.auth(key)).status_code == 200

    revoke = ("import sys\n"
              "from runner.auth import accounts\n"
              "from runner.config import Settings\n"
              "from runner.store.schema import open_store\n"
              "store = open_store(Settings.from_env().db_path)\n"
              "sys.exit(0 if accounts.revoke_api_key(store, sys.argv[1]) else 3)\n")
    done = subprocess.run([sys.executable, "-c", revoke, key_id], env=runner.env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    update(runner, target)
    run_id = run_action(runner, target)

    assert_revoked(ws, revoked_at)
    assert handshake_status(runner, header=[f"Authorization: Bearer {key}"]) == 401
    assert next_event(bystander, target)["type"] == "entity.updated"
    assert run_event(bystander, run_id)["type"] == "action.run.created"


def test_session_expiring_while_connected_closes_the_socket(
        runner: RunnerProcess, make_user: Callable, target: str, sockets: list) -> None:
    _, token = make_user("viewer")
    _, bystander_token = make_user("viewer")
    ws = open_socket(runner, cookie=token)
    bystander = open_socket(runner, bearer=bystander_token)
    sockets += [ws, bystander]

    set_session_expiry(runner, token, datetime.now(UTC) - timedelta(seconds=1))
    expired_at = time.monotonic()
    update(runner, target)

    assert_revoked(ws, expired_at)
    assert next_event(bystander, target)["type"] == "entity.updated"
    assert handshake_status(runner, header=[f"Authorization: Bearer {token}"]) == 401


def test_session_reaching_its_expiry_time_closes_the_socket(
        runner: RunnerProcess, make_user: Callable, target: str, sockets: list) -> None:
    _, token = make_user("developer")
    lifetime = 3.0
    set_session_expiry(runner, token, datetime.now(UTC) + timedelta(seconds=lifetime))
    expires_at = time.monotonic() + lifetime
    ws = open_socket(runner, bearer=token)
    sockets.append(ws)
    description = update(runner, target)  # valid until then: events still arrive
    assert next_event(ws, target)["payload"]["metadata"]["description"] == description
    code, reason, _, _ = until_close(ws, expires_at, lifetime + CLOSE_DEADLINE)
    assert code in REVOKED_CODES and ("expired" in reason or "ended" in reason), (code, reason)
    assert time.monotonic() - expires_at < CLOSE_DEADLINE


def test_removed_user_loses_session_and_key_sockets(
        runner: RunnerProcess, make_user: Callable, target: str, sockets: list) -> None:
    name, token = make_user("developer")
    key = create_key(runner, token)["key"]
    by_session, by_key = open_socket(runner, bearer=token), open_socket(runner, bearer=key)
    bystander = open_socket(runner, bearer=runner.admin_token)
    sockets += [by_session, by_key, bystander]

    conn = store(runner)  # as with the sqlite3 shell: foreign keys off, nothing cascades
    try:
        assert conn.execute("DELETE FROM users WHERE username = ?", (name,)).rowcount == 1
    finally:
        conn.close()
    removed_at = time.monotonic()
    update(runner, target)

    assert_revoked(by_session, removed_at)
    assert_revoked(by_key, removed_at)
    assert next_event(bystander, target)["type"] == "entity.updated"


def test_lowered_role_ends_sockets_and_raised_role_keeps_them(
        runner: RunnerProcess, make_user: Callable, target: str, sockets: list) -> None:
    lowered, lowered_token = make_user("platform-engineer")
    raised, raised_token = make_user("viewer")
    lowered_key = create_key(runner, lowered_token)["key"]
    by_session = open_socket(runner, cookie=lowered_token)
    by_key = open_socket(runner, bearer=lowered_key)
    promoted = open_socket(runner, bearer=raised_token)
    sockets += [by_session, by_key, promoted]

    conn = store(runner)
    try:
        conn.execute("UPDATE users SET role = 'developer' WHERE username = ?", (lowered,))
        conn.execute("UPDATE users SET role = 'admin' WHERE username = ?", (raised,))
    finally:
        conn.close()
    changed_at = time.monotonic()
    update(runner, target)

    for ws in (by_session, by_key):
        assert "lowered" in assert_revoked(ws, changed_at)
    assert_keeps_receiving(runner, target, promoted)
    reconnected = open_socket(runner, bearer=lowered_key)  # connecting again is allowed
    sockets.append(reconnected)
    update(runner, target)
    assert next_event(reconnected, target)["type"] == "entity.updated"


@pytest.mark.parametrize("suffix", ["?access_token={t}", "?session={t}", "?x=1&api_key={t}"])
def test_query_string_credentials_refused_even_beside_a_valid_header(
        runner: RunnerProcess, suffix: str) -> None:
    status = handshake_status(runner, suffix.format(t=runner.admin_token),
                              header=[f"Authorization: Bearer {runner.admin_token}"])
    assert status == 400  # refused as a bad request before the upgrade, like any other route


def test_bus_revocation_waits_for_a_send_in_flight_and_refuses_later_ones() -> None:
    bus = EventBus()
    doomed, other = bus.subscribe("session:one"), bus.subscribe("apikey:two")
    order: list[str] = []
    transmitting, release = threading.Event(), threading.Event()

    def slow_transmit(text: str) -> None:
        transmitting.set()
        assert release.wait(10)
        order.append(f"sent {text}")

    sender = threading.Thread(target=doomed.send, args=("in flight", slow_transmit))
    sender.start()
    assert transmitting.wait(10)
    revoker = threading.Thread(
        target=lambda: order.append(f"revoked {bus.revoke('session:one', 'logged out')}"))
    revoker.start()
    deadline = time.monotonic() + 10
    while doomed.revoked is None and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    sender.join(10)
    revoker.join(10)
    assert order == ["sent in flight", "revoked 1"]

    assert doomed.send("late", order.append) is False
    bus.publish("entity.updated", {"n": 1})
    assert doomed.get(timeout=1)["type"] == "credential.revoked"
    assert doomed.get(timeout=0.1) is None
    assert other.get(timeout=1) == {"type": "entity.updated", "payload": {"n": 1}}
    assert other.send("still", order.append) is True and order[-1] == "still"
    assert bus.revoke("session:unknown", "nothing") == 0
