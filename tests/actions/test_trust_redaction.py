"""Secret inputs never leave the runner through a run: not through its inputs, its outputs (a
receiver echoing them back as JSON, as text, inside nested strings, cut short), its error,
the WebSocket, the audit log, the runner's log or the plain columns of the store.

Secret inputs are the ones declared `secret: true` and the ones whose names look like secrets
(token, password, passwd, secret, apikey, api_key, credential; any case). A real
`gantry serve` runs the actions against a local receiver that echoes what it gets.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from generator.structure.kinds import SchemaRegistry
from generator.validate import validate_catalog
from runner.actions.checks import action_problems
from runner.redact import REDACTED, redact
from tests.support.runner_process import RunnerProcess, make_catalog_repo

from .conftest import action_files, wait_for_run
from .fakes.server import LocalServer

TOKEN = "tok-7d2e91ab55c3"
PASSWORD = 'pw "quoted" \\ back-slash é-9a3f'
API_KEY = "ak/with+plus and space-61c0"
CREDENTIAL = "cred-0f4b6e22a1"
SNAKE_KEY = "snake-api-key-83d1"
PASSWD = "passwd-value-2a9e70"
NOTE = "note-value-is-secret-5c7e"
HEADER_TOKEN = "echo-hook-header-value-4b19"
SECRETS = (TOKEN, PASSWORD, API_KEY, CREDENTIAL, SNAKE_KEY, PASSWD, NOTE, HEADER_TOKEN)
SERVICE = "checkout-visible-service"

INPUTS = [
    {"name": "service", "type": "string"},
    {"name": "token", "type": "string"},
    {"name": "password", "type": "string"},
    {"name": "apiKey", "type": "string"},
    {"name": "Credential", "type": "string"},
    {"name": "api_key", "type": "string"},
    {"name": "DB_PASSWD", "type": "string"},
    {"name": "note", "type": "textarea", "secret": True},
    {"name": "pad", "type": "string"},
]
VALUES = {"service": SERVICE, "token": TOKEN, "password": PASSWORD, "apiKey": API_KEY,
          "Credential": CREDENTIAL, "api_key": SNAKE_KEY, "DB_PASSWD": PASSWD, "note": NOTE}
EXCERPT = 2048
"""How much of a response body the runner keeps (`executors.http.RESPONSE_EXCERPT`)."""


def forms(secret: str) -> set[str]:
    """A secret as it could show up in a JSON document (also JSON inside a JSON string) or
    a URL."""
    once = json.dumps(secret)[1:-1]
    return {secret, once, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(once)[1:-1],
            quote(secret, safe="")}


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if any(form in text for form in forms(secret))]


class EchoReceiver(LocalServer):
    """Answers with what it received: `/json` as JSON, `/text` as text, `/nested` inside JSON
    strings, `/fail/<status>` as an error; every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__(_EchoHandler)


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        receiver: EchoReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = dict(self.headers.items())
        with receiver.lock:
            receiver.requests.append((self.path, headers, body))
        status, kind, payload = 200, "application/json", body
        if self.path.startswith("/text"):
            kind = "text/plain; charset=utf-8"
        elif self.path.startswith("/nested"):
            inner = json.dumps({"body": body.decode(), "headers": headers})
            payload = json.dumps({"received": inner,
                                  "twice": json.dumps({"again": inner})}).encode()
        elif self.path.startswith("/headers"):
            payload = json.dumps({"echo": json.loads(body), "headers": headers}).encode()
        elif self.path.startswith("/fail/"):
            status = int(self.path.rsplit("/", 1)[1])
            kind = "text/plain" if status >= 500 else "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _action(url: str, headers: dict | None = None) -> str:
    config = {"url": url, "retries": 0, **({"headers": headers} if headers else {})}
    return "spec: " + json.dumps({"type": "webhook", "inputs": INPUTS, "config": config}) + "\n"


ECHOES = {
    "echo-json": "/json",
    "echo-text": "/text",
    "echo-nested": "/nested",
    "echo-headers": "/headers",
    "echo-500": "/fail/500",
    "echo-400": "/fail/400",
    "echo-long": "/text/long",
}


def _padding() -> str:
    """A `pad` input that makes the webhook body cross the excerpt limit inside the token."""
    body = json.dumps({**VALUES, "pad": ""}, separators=(",", ":"), sort_keys=True)
    start = body.index(TOKEN)
    return "x" * (EXCERPT - 8 - start)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust-redaction")
    with EchoReceiver() as echo:
        actions = {name: _action(echo.url + path) for name, path in ECHOES.items()}
        actions["echo-headers"] = _action(echo.url + "/headers",
                                          {"X-Hook-Sig": "v1 ${ECHO_HOOK_HEADER}"})
        repo = make_catalog_repo(root / "repo", extra_files=action_files(actions))
        env = {"GANTRY_ACTION_ENV": "ECHO_HOOK_*", "ECHO_HOOK_HEADER": HEADER_TOKEN}
        with RunnerProcess(repo / "catalog", root / "data", env=env) as runner:
            runner.developer = runner.create_user("erin", "developer")
            runner.viewer = runner.create_user("victor", "viewer")
            events, stop = [], threading.Event()
            listener = threading.Thread(target=_listen, args=(runner, events, stop),
                                        daemon=True)
            listener.start()
            _wait_for_subscription(events)
            runs = {}
            for name in ECHOES:
                inputs = {**VALUES, "pad": _padding() if name == "echo-long" else "p"}
                response = httpx.post(runner.url(f"/api/v1/actions/{name}/execute"),
                                      json={"inputs": inputs},
                                      headers=runner.auth(runner.developer), timeout=30)
                assert response.status_code == 201, response.text
                runs[name] = {"created": response.text, "id": response.json()["id"]}
            for name, run in runs.items():
                run["final"] = wait_for_run(runner, name, run["id"])
            _wait_for_final_events(events, {run["id"] for run in runs.values()})
            stop.set()
            yield runner, echo, runs, events, root / "data"


def _listen(runner, events: list, stop: threading.Event) -> None:
    import websocket

    ws = websocket.create_connection(runner.base_url.replace("http", "ws", 1) + "/api/v1/ws",
                                     header=[f"Authorization: Bearer {runner.viewer}"],
                                     timeout=1)
    try:
        ws.send(json.dumps({"action": "subscribe", "channel": "actions"}))
        while not stop.is_set():
            try:
                events.append(ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
    finally:
        ws.close()


def _wait_for_subscription(events: list, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not any('"subscribed"' in text for text in events):
        assert time.monotonic() < deadline, events
        time.sleep(0.02)


def _wait_for_final_events(events: list, ids: set[str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        ended = set()
        for text in list(events):
            message = json.loads(text)
            payload = message.get("payload") or {}
            if payload.get("status") in ("success", "failed"):
                ended.add(payload.get("id"))
        if ids <= ended:
            return
        assert time.monotonic() < deadline, f"no final event for {ids - ended}"
        time.sleep(0.02)


def test_the_receiver_really_got_and_echoed_the_secrets(portal):
    _runner, echo, runs, _events, _data = portal
    assert len(echo.requests) == len(ECHOES)
    for _path, _headers, body in echo.requests:
        assert json.loads(body)["note"] == NOTE and json.loads(body)["password"] == PASSWORD
    (headers,) = [h for path, h, _ in echo.requests if path == "/headers"]
    assert headers["X-Hook-Sig"] == f"v1 {HEADER_TOKEN}"
    assert runs["echo-500"]["final"]["status"] == "failed"
    assert runs["echo-400"]["final"]["status"] == "failed"
    for name in ("echo-json", "echo-text", "echo-nested", "echo-headers", "echo-long"):
        assert runs[name]["final"]["status"] == "success", runs[name]["final"]


def test_shown_inputs_redact_declared_and_secret_looking_names(portal):
    _runner, _echo, runs, _events, _data = portal
    inputs = runs["echo-json"]["final"]["inputs"]
    assert inputs["service"] == SERVICE
    for name in ("token", "password", "apiKey", "Credential", "api_key", "DB_PASSWD", "note"):
        assert inputs[name] == REDACTED, inputs


@pytest.mark.parametrize("name", list(ECHOES))
def test_outputs_and_errors_keep_the_echo_but_not_the_secrets(portal, name):
    runner, _echo, runs, _events, _data = portal
    run = runs[name]["final"]
    shown = json.dumps(run, ensure_ascii=False)
    assert leaks(shown) == [], shown
    assert leaks(json.dumps(run)) == []
    assert SERVICE in shown  # the echo itself is still shown
    assert REDACTED in json.dumps(run["outputs"]) + (run["error"] or "")
    for path in (f"/api/v1/actions/{name}/runs/{run['id']}", f"/api/v1/actions/{name}/runs"):
        response = httpx.get(runner.url(path), headers=runner.auth(runner.viewer), timeout=30)
        assert response.status_code == 200
        assert leaks(response.text) == [] and SERVICE in response.text
    assert leaks(runs[name]["created"]) == []


def test_parsed_json_echo_redacts_by_value_and_by_key(portal):
    _runner, _echo, runs, _events, _data = portal
    response = runs["echo-json"]["final"]["outputs"]["response"]
    assert isinstance(response, dict)
    assert response["service"] == SERVICE
    assert response["note"] == REDACTED and response["password"] == REDACTED


def test_text_and_nested_echoes_are_redacted_inside_the_strings(portal):
    _runner, _echo, runs, _events, _data = portal
    text = runs["echo-text"]["final"]["outputs"]["response"]
    assert isinstance(text, str) and SERVICE in text and REDACTED in text
    nested = runs["echo-nested"]["final"]["outputs"]["response"]
    assert isinstance(nested["received"], str) and isinstance(nested["twice"], str)
    assert SERVICE in nested["twice"] and REDACTED in nested["twice"]
    assert leaks(nested["received"]) == [] and leaks(nested["twice"]) == []


def test_errors_echoing_the_body_are_redacted(portal):
    _runner, _echo, runs, _events, _data = portal
    for name, status in (("echo-500", "HTTP 500"), ("echo-400", "HTTP 400")):
        error = runs[name]["final"]["error"]
        assert status in error and SERVICE in error and REDACTED in error, error
        assert leaks(error) == []


def test_an_excerpt_cut_inside_a_secret_keeps_none_of_it(portal):
    _runner, _echo, runs, _events, _data = portal
    text = runs["echo-long"]["final"]["outputs"]["response"]
    assert isinstance(text, str) and text.startswith('{"Credential"')
    assert TOKEN[:8] not in text and text.endswith(REDACTED)


def test_placeholder_values_echoed_back_are_redacted(portal):
    _runner, _echo, runs, _events, _data = portal
    headers = runs["echo-headers"]["final"]["outputs"]["response"]["headers"]
    assert headers["X-Hook-Sig"] == f"v1 {REDACTED}"


def test_websocket_events_carry_no_secret(portal):
    _runner, _echo, runs, events, _data = portal
    mine = [text for text in events
            if any(run["id"] in text for run in runs.values())]
    assert len(mine) >= 3 * len(runs)  # created, running, ended — for every run
    assert any(SERVICE in text and REDACTED in text for text in mine)
    for text in mine:
        assert leaks(text) == [], text
        assert leaks(json.dumps(json.loads(text), ensure_ascii=False)) == []


def test_audit_entries_carry_no_secret(portal):
    runner, _echo, runs, _events, _data = portal
    response = httpx.get(runner.url("/api/v1/audit?limit=500"), headers=runner.auth(),
                         timeout=30)
    assert response.status_code == 200
    executes = [entry for entry in response.json() if entry["action"] == "execute"
                and entry["details"]["runId"] in {run["id"] for run in runs.values()}]
    assert len(executes) == len(runs)
    assert all(entry["details"]["inputs"]["note"] == REDACTED for entry in executes)
    assert leaks(response.text) == []


def test_the_store_keeps_no_secret_in_plain_text(portal):
    runner, _echo, runs, _events, data_dir = portal
    with sqlite3.connect(f"file:{data_dir / 'gantry.db'}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT id, inputs_json, outputs_json, error, state_json,"
                            " action_json FROM action_runs").fetchall()
        audit_rows = conn.execute("SELECT * FROM audit").fetchall()
    ours = [row for row in rows if row[0] in {run["id"] for run in runs.values()}]
    assert len(ours) == len(runs)
    assert any(REDACTED in (row[2] or "") for row in ours)
    for row in ours:
        text = repr(row) + json.dumps(list(row), ensure_ascii=False)
        assert leaks(text) == [], row
    assert leaks(repr(audit_rows) + json.dumps(audit_rows, ensure_ascii=False)) == []
    raw = "".join(path.read_bytes().decode("utf-8", errors="replace")
                  for path in Path(data_dir).glob("gantry.db*"))
    assert leaks(raw) == []
    assert leaks(runner.log()) == []


@pytest.mark.parametrize("secret", ['a"b\\c-é-secret', "with space/and+plus", "plain-1234"])
def test_redact_catches_the_forms_a_receiver_echoes(secret):
    text = json.dumps({"outer": json.dumps({"inner": secret})})
    shown = redact({"body": text, "url": "https://x/?q=" + quote(secret, safe=""),
                    "unicode": json.dumps(secret, ensure_ascii=False)}, [secret])
    for value in shown.values():
        assert leaks_of(secret, value) == [], value
        assert REDACTED in value


def leaks_of(secret: str, text: str) -> list[str]:
    return [form for form in forms(secret) if form in text]


def test_the_runner_refuses_a_secret_input_with_a_default():
    action = {"kind": "Action", "metadata": {"name": "a"}, "spec": {
        "type": "webhook", "config": {"url": "https://hooks.example.com/x"},
        "inputs": [{"name": "note", "type": "string", "secret": True, "default": "x"},
                   {"name": "other", "type": "string", "secret": 1}]}}
    problems = action_problems(action)
    assert any("spec.inputs[0]" in p and "secret input cannot have a default" in p
               for p in problems), problems
    assert any("spec.inputs[1].secret" in p for p in problems), problems


def test_a_secret_input_cannot_have_a_default(tmp_path):
    spec = {"type": "webhook", "config": {"url": "https://hooks.example.com/x"},
            "inputs": [{"name": "note", "type": "string", "secret": True, "default": "x"},
                       {"name": "flag", "type": "string", "secret": "yes"}]}
    text = ("apiVersion: gantry.io/v1\nkind: Action\nmetadata:\n  name: secret-default\n"
            "spec: " + json.dumps(spec) + "\n")
    (tmp_path / "Action").mkdir()
    (tmp_path / "Action" / "secret-default.yaml").write_text(text, encoding="utf-8")
    problems = validate_catalog(tmp_path, SchemaRegistry()).problems
    messages = [problem.message for problem in problems]
    assert any("spec.inputs[0].default: a secret input cannot have a default" in message
               for message in messages), messages
    assert any("spec.inputs[1].secret" in message for message in messages), messages
