"""Bad input never answers 500: deep JSON and lone surrogates are 400, over-long entity
names 422, query numbers that are negative or beyond 32 bits 400 (page sizes clamped),
credentials in any query parameter 400, and the health-check refusal keeps what a name
resolves to inside the runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import websocket

from tests.support.runner_process import RunnerProcess, git

from .inprocess import InProcessApp, start_app

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    yield from start_app(tmp_path_factory.mktemp("bad-input"))


def post(portal: InProcessApp, path: str, raw: bytes, identity: str = "admin",
         method: str = "POST"):
    return portal.client.open(path, method=method, data=raw,
                              headers={**portal.headers(identity), **JSON})


def error_of(response) -> str:
    assert response.is_json, response.get_data()
    return response.get_json()["error"]


def nested(levels: int, inner: bytes = b"1", opener: bytes = b"[") -> bytes:
    closer = b"]" if opener == b"[" else b"}"
    if opener == b"{":
        return b'{"k":' * levels + inner + closer * levels
    return opener * levels + inner + closer * levels


# --- deep JSON ---------------------------------------------------------------------------

@pytest.mark.parametrize("levels", [65, 300, 5000, 50_000])
@pytest.mark.parametrize("opener", [b"[", b"{"])
def test_deep_json_is_400_even_before_login(portal: InProcessApp, levels: int,
                                            opener: bytes) -> None:
    body = b'{"username": ' + nested(levels - 1, b'"u"', opener) + b', "password": "p"}'
    response = post(portal, "/api/v1/auth/login", body, identity="anonymous")
    assert response.status_code == 400
    assert "nested deeper than 64" in error_of(response)


def test_sixty_four_levels_are_not_refused_for_depth(portal: InProcessApp) -> None:
    body = b'{"name": "depth-ok", "extra": ' + nested(63, b"0", b"{") + b"}"
    response = post(portal, "/api/v1/auth/apikeys", body, identity="viewer")
    assert response.status_code == 201, response.get_data()


def test_brackets_inside_strings_do_not_count(portal: InProcessApp) -> None:
    name = '[{"' * 40 + "\\\"[[[" * 40
    body = json.dumps({"name": name[:90]}).encode()
    response = post(portal, "/api/v1/auth/apikeys", body, identity="viewer")
    assert response.status_code == 201, response.get_data()


@pytest.mark.parametrize("path,method", [
    ("/api/v1/entities", "POST"), ("/api/v1/entities/team/tiny-team", "PUT"),
    ("/api/v1/dashboard/config", "PUT"), ("/api/v1/history", "POST"),
    ("/api/v1/auth/users", "POST"), ("/api/v1/plugins/argocd/config", "PUT"),
])
def test_deep_json_is_400_on_writes(portal: InProcessApp, path: str, method: str) -> None:
    head = git(portal.repo, "rev-parse", "HEAD")
    response = post(portal, path, nested(20_000, b"[]"), method=method)
    assert response.status_code == 400 and "nested" in error_of(response)
    assert git(portal.repo, "rev-parse", "HEAD") == head


# --- lone surrogates ---------------------------------------------------------------------

SURROGATE_BODIES = [
    b'{"username": "\\ud800", "password": "password-123"}',
    b'{"username": "admin\\udfff", "password": "password-123"}',
    b'{"username": "admin", "password": "\\uDBFF"}',
    b'{"username": "a\\udc00\\ud83d", "password": "x"}',
    b'{"username": "admin", "password": "x", "\\ud801": 1}',
    b'{"username": "admin", "password": "x", "more": [["\\udead"]]}',
]


@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_lone_surrogate_in_login_is_400(portal: InProcessApp, body: bytes) -> None:
    response = post(portal, "/api/v1/auth/login", body, identity="anonymous")
    assert response.status_code == 400
    assert "lone surrogate" in error_of(response)


@pytest.mark.parametrize("raw", [b'"\xed\xa0\x80"', b'"key-\xed\xbf\xbf"', b'"\xff"',
                                 b'"\xc3"', b'"\xe0\x80\x80"'])
def test_text_that_is_not_utf8_is_400(portal: InProcessApp, raw: bytes) -> None:
    response = post(portal, "/api/v1/auth/apikeys", b'{"name": ' + raw + b"}", "viewer")
    assert response.status_code == 400
    assert "UTF-8" in error_of(response)


@pytest.mark.parametrize("name", ["\\ud800", "key \\udbff", "\\udc00 key"])
def test_lone_surrogate_in_api_key_name_is_400(portal: InProcessApp, name: str) -> None:
    before = portal.client.get("/api/v1/auth/apikeys", headers=portal.headers("viewer"))
    response = post(portal, "/api/v1/auth/apikeys", f'{{"name": "{name}"}}'.encode(), "viewer")
    assert response.status_code == 400 and "lone surrogate" in error_of(response)
    after = portal.client.get("/api/v1/auth/apikeys", headers=portal.headers("viewer"))
    assert after.get_json() == before.get_json()


def test_a_surrogate_pair_is_ordinary_text(portal: InProcessApp) -> None:
    response = post(portal, "/api/v1/auth/apikeys", b'{"name": "rocket \\ud83d\\ude80"}',
                    "viewer")
    assert response.status_code == 201, response.get_data()
    assert response.get_json()["name"] == "rocket \U0001F680"


@pytest.mark.parametrize("field,raw", [
    ("title", b'"\\ud800"'), ("title", b'"News \\udfff"'), ("message", b'"\\udbff\\udbff"'),
    ("title", b'"\xed\xa0\x80"'),
])
def test_dashboard_refuses_lone_surrogates_without_writing(portal: InProcessApp, field: str,
                                                           raw: bytes) -> None:
    config = portal.repo / "gantry.yaml"
    before, head = config.read_bytes(), git(portal.repo, "rev-parse", "HEAD")
    announcement = {"title": "Maintenance", "message": "Tonight", "severity": "info"}
    text = json.dumps({"announcements": [announcement]}).encode()
    body = text.replace(json.dumps(announcement[field]).encode(), raw, 1)
    response = post(portal, "/api/v1/dashboard/config", body, method="PUT")
    assert response.status_code == 400, response.get_data()
    assert config.read_bytes() == before
    assert git(portal.repo, "rev-parse", "HEAD") == head
    assert git(portal.repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("raw", [b"NaN", b"-Infinity", b"1e400", b"7" * 5000])
def test_numbers_json_cannot_carry_are_400(portal: InProcessApp, raw: bytes) -> None:
    response = post(portal, "/api/v1/auth/apikeys", b'{"name": "n", "x": ' + raw + b"}",
                    "viewer")
    assert response.status_code == 400


# --- query-string numbers ----------------------------------------------------------------

BAD_NUMBERS = ["-1", "-0", "99999999999999999999999", "2147483648", "1e3", "5.0", "+5", " 5",
               "0x10", "٣", "1_000", "abc", "--1"]


@pytest.mark.parametrize("path,param", [
    ("/api/v1/entities", "limit"), ("/api/v1/entities", "offset"),
    ("/api/v1/entities/team", "limit"), ("/api/v1/search?q=tiny", "limit"),
    ("/api/v1/graph/team/tiny-team", "depth"), ("/api/v1/audit", "limit"),
    ("/api/v1/audit", "offset"), ("/api/v1/history", "limit"),
    ("/api/v1/actions/runs", "limit"), ("/api/v1/actions/runs", "offset"),
])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_query_numbers_are_400_naming_the_parameter(portal: InProcessApp, path: str,
                                                        param: str, value: str) -> None:
    joiner = "&" if "?" in path else "?"
    response = portal.client.get(path + joiner + urlencode({param: value}),
                                 headers=portal.headers("admin"))
    assert response.status_code == 400, (path, param, value, response.get_data())
    assert param in error_of(response)


@pytest.mark.parametrize("path", [
    "/api/v1/entities?limit=2147483647", "/api/v1/entities/team?limit=1000001",
    "/api/v1/search?q=tiny&limit=2147483647", "/api/v1/audit?limit=501",
    "/api/v1/history?limit=21", "/api/v1/actions/runs?limit=100000",
    "/api/v1/entities?offset=2147483647", "/api/v1/audit?offset=2147483647",
])
def test_page_sizes_above_the_maximum_are_clamped(portal: InProcessApp, path: str) -> None:
    response = portal.client.get(path, headers=portal.headers("admin"))
    assert response.status_code == 200, response.get_data()
    assert isinstance(response.get_json(), list)


def test_a_clamped_page_is_the_maximum_page(portal: InProcessApp) -> None:
    for index in range(3):
        post(portal, "/api/v1/auth/apikeys", json.dumps({"name": f"page-{index}"}).encode(),
             "developer")
    full = portal.client.get("/api/v1/audit?limit=500", headers=portal.headers("admin"))
    huge = portal.client.get("/api/v1/audit?limit=2000000000", headers=portal.headers("admin"))
    assert len(full.get_json()) >= 3
    assert [e["id"] for e in huge.get_json()] == [e["id"] for e in full.get_json()]


def test_graph_depth_beyond_its_maximum_is_400(portal: InProcessApp) -> None:
    response = portal.client.get("/api/v1/graph/team/tiny-team?depth=6",
                                 headers=portal.headers("viewer"))
    assert response.status_code == 400 and "depth" in error_of(response)


# --- over-long entity names --------------------------------------------------------------

@pytest.mark.parametrize("length", [64, 253, 300, 5000])
@pytest.mark.parametrize("method,template", [
    ("GET", "/api/v1/entities/service/{}"), ("PUT", "/api/v1/entities/service/{}"),
    ("DELETE", "/api/v1/entities/service/{}"), ("GET", "/api/v1/graph/service/{}"),
    ("GET", "/api/v1/entities/team/tiny-team?namespace={}"),
    ("DELETE", "/api/v1/entities/team/tiny-team?namespace={}"),
])
def test_over_long_names_in_the_url_are_422(portal: InProcessApp, method: str, template: str,
                                            length: int) -> None:
    name = ("n" * (length - 3)) + ".-x"
    body = json.dumps({"apiVersion": "gantry.io/v1", "kind": "Service",
                       "metadata": {"name": name}, "spec": {}}).encode()
    response = portal.client.open(template.format(name), method=method,
                                  data=body if method == "PUT" else None,
                                  headers={**portal.headers("admin"), **JSON})
    assert response.status_code == 422, response.get_data()
    assert "at most 63 characters" in error_of(response)


def test_a_name_of_the_maximum_length_is_simply_not_found(portal: InProcessApp) -> None:
    response = portal.client.get("/api/v1/entities/service/" + "m" * 63,
                                 headers=portal.headers("viewer"))
    assert response.status_code == 404


@pytest.mark.parametrize("metadata", [
    {"name": "c" * 64}, {"name": "c" * 255}, {"name": "c" * 4096},
    {"name": "short", "namespace": "s" * 256}, {"name": "d" * 300, "namespace": "e" * 300},
])
def test_over_long_names_in_a_created_entity_are_422_and_touch_nothing(
        portal: InProcessApp, metadata: dict) -> None:
    head = git(portal.repo, "rev-parse", "HEAD")
    body = {"apiVersion": "gantry.io/v1", "kind": "Service", "metadata": metadata,
            "spec": {"owner": "tiny-team"}}
    response = post(portal, "/api/v1/entities", json.dumps(body).encode())
    assert response.status_code == 422, response.get_data()
    assert "metadata." in error_of(response)
    assert git(portal.repo, "rev-parse", "HEAD") == head
    assert git(portal.repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../etc", "x" * 40 + "/.." * 20])
def test_dots_and_slashes_in_names_are_never_500(portal: InProcessApp, name: str) -> None:
    body = {"apiVersion": "gantry.io/v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"owner": "tiny-team"}}
    created = post(portal, "/api/v1/entities", json.dumps(body).encode())
    assert created.status_code in (400, 422), created.get_data()
    read = portal.client.get(f"/api/v1/entities/service/{name}", headers=portal.headers("admin"))
    assert read.status_code in (404, 422) and read.is_json


# --- credentials in the query string -----------------------------------------------------

CREDENTIAL_NAMES = ["Token", "ACCESS_TOKEN", "jwt", "JWT", "apiKey", "X-Api-Key", "api-key",
                    "refreshToken", "id_token", "session_id", "SessionToken", "auth",
                    "Authorization", "password", "Passwd", "client_secret", "bearer", "key",
                    "private.key", "credentials"]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
@pytest.mark.parametrize("method,path", [
    ("GET", "/healthz"), ("GET", "/api/v1/entities"), ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"), ("GET", "/"), ("GET", "/api/v1/no-such-route"),
])
def test_credential_like_query_parameters_are_400_everywhere(portal: InProcessApp, name: str,
                                                             method: str, path: str) -> None:
    secret = "s3cr3t-value-never-echoed"
    response = portal.client.open(path, method=method, query_string={name: secret},
                                  json={"username": "admin", "password": "x"},
                                  headers=portal.headers("admin"))
    assert response.status_code == 400, response.get_data()
    message = error_of(response)
    assert "query string" in message and secret not in message


@pytest.mark.parametrize("name", ["q", "kind", "owner", "tag", "author", "keyword", "monkey",
                                  "passage", "namespace", "direction"])
def test_ordinary_query_parameters_pass(portal: InProcessApp, name: str) -> None:
    response = portal.client.get("/api/v1/entities", query_string={name: "x"},
                                 headers=portal.headers("viewer"))
    assert response.status_code == 200, response.get_data()


# --- health-check refusals ---------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://localhost/", "http://LocalHost:8080/health",
                                 "http://2130706433/", "http://0x7f000001:8080/",
                                 "http://127.1/", "http://0177.0.0.1/"])
def test_health_check_refusal_does_not_disclose_the_resolved_address(
        portal: InProcessApp, url: str) -> None:
    response = portal.client.get("/api/v1/health-check", query_string={"url": url},
                                 headers=portal.headers("viewer"))
    assert response.status_code == 400
    message = error_of(response)
    assert "not resolve to a public address" in message
    for leaked in ("127.0.0.1", "::1", "loopback"):
        assert leaked not in message


def test_health_check_refusal_of_a_literal_address_names_it(portal: InProcessApp) -> None:
    response = portal.client.get("/api/v1/health-check", query_string={"url": "http://10.9.8.7/"},
                                 headers=portal.headers("viewer"))
    assert response.status_code == 400 and "10.9.8.7 is a private address" in error_of(response)


# --- WebSocket messages ------------------------------------------------------------------

@pytest.mark.parametrize("message", ["[" * 2000 + "]" * 2000,
                                     '{"action": ' + "{" * 1000 + "}" * 1000 + "}",
                                     '{"action": "\\ud800", "channel": "entities"}'])
def test_websocket_messages_go_through_the_same_reader(runner: RunnerProcess,
                                                       message: str) -> None:
    url = runner.base_url.replace("http://", "ws://") + "/api/v1/ws"
    ws = websocket.create_connection(url, timeout=10, header=[
        f"Authorization: Bearer {runner.admin_token}"])
    try:
        assert json.loads(ws.recv())["type"] == "connected"
        ws.send(message)
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and "malformed JSON" in reply["payload"]["message"]
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv())["type"] == "pong"
    finally:
        ws.close()


def test_every_body_is_read_by_the_one_reader() -> None:
    """No view reads a request body but through `json_body` (and so `parse_json`)."""
    root = Path(__file__).resolve().parents[2] / "runner"
    readers = ("get_json(", "request.json", "request.data", "request.get_data(",
               "request.form", "request.stream", "json.loads(request", "json.load(request")
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "api":
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(root)}: {reader}" for reader in readers if reader in text]
    assert found == []
