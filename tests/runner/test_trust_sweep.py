"""Every endpoint that takes a JSON body, fed malformed bodies by every kind of caller:
no answer may be a 500.

The endpoints come from the app's own URL map (every rule accepting POST, PUT or PATCH),
so a new endpoint is swept without editing this file. Each is sent deep nesting, huge
strings, lone surrogates (escaped and as raw bytes), invalid UTF-8, wrong top-level types,
wrong types for each documented field, empty bodies and wrong content types, then
bodies drawn by Hypothesis, as anonymous, viewer and admin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner import openapi
from runner.plugins.registry import PLUGINS

from .inprocess import InProcessApp, start_app

BODY_METHODS = ("POST", "PUT", "PATCH")
IDENTITIES = ("anonymous", "viewer", "admin")
JSON = "application/json"

# Path parameters get a value that reaches the view (an existing entity, a real plugin)
# where one exists; any other parameter gets a harmless made-up value.
PATH_VALUES = {"kind": "team", "name": "tiny-team", "run_id": "run-that-does-not-exist",
               "key_id": "key-that-does-not-exist", "app_name": "sweep-app"}
PLUGIN_NAME = "github"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    yield from start_app(tmp_path_factory.mktemp("sweep"))


def body_endpoints(portal: InProcessApp) -> list[tuple[str, str]]:
    """(method, rule) of every route that accepts a body."""
    found = []
    for rule in portal.app.url_map.iter_rules():
        for method in sorted(set(rule.methods or ()) & set(BODY_METHODS)):
            found.append((method, rule.rule))
    return sorted(found)


def needs_role(portal: InProcessApp, rule: str) -> bool:
    """Whether the route's view requires a role (a 401 then means lost credentials)."""
    endpoint = next(r.endpoint for r in portal.app.url_map.iter_rules() if r.rule == rule)
    return getattr(portal.app.view_functions[endpoint], "gantry_role", None) is not None


def concrete(rule: str, plugin: str = PLUGIN_NAME) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "name" and rule.startswith("/api/v1/plugins/"):
            return plugin
        return PATH_VALUES.get(name, "sweep")
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule)


def targets(portal: InProcessApp) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(method, rule, concrete path, plausible body) to sweep. Plugin routes are swept
    for every bundled plugin, a plugin's config with its own settings schema's fields."""
    for method, rule in body_endpoints(portal):
        if "<name>" in rule and rule.startswith("/api/v1/plugins/"):
            for name, plugin in sorted(PLUGINS.items()):
                body = example(plugin.schema) if rule.endswith("/config") else \
                    documented_body(method, rule)
                yield method, rule, concrete(rule, name), body
        else:
            yield method, rule, concrete(rule), documented_body(method, rule)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return openapi.SCHEMAS[ref.rsplit("/", 1)[-1]]
    return schema


def example(schema: dict[str, Any]) -> Any:
    """A plausible value for a documented schema (no need to be accepted)."""
    schema = _resolve(schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object" or "properties" in schema:
        return {key: example(sub) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}))]
    if "oneOf" in schema or "anyOf" in schema:
        return example((schema.get("oneOf") or schema["anyOf"])[0])
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return 1
    return "sweep-value"


def documented_body(method: str, rule: str) -> dict[str, Any]:
    operation = openapi.OPERATIONS.get((method.lower(), openapi.openapi_path(rule)), {})
    content = operation.get("requestBody", {}).get("content", {}).get(JSON, {})
    found = example(content["schema"]) if content else {}
    return found if isinstance(found, dict) else {}


def leaf_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside `value` (objects and arrays walked)."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


WRONG_VALUES: list[Any] = [None, True, 0, -1, 2**63, 1.5, "", "x" * 5000, [], {}, ["x"],
                           {"x": "y"}, "\ud800", "ok\udc00", [[[[["deep"]]]]]]


def deep(levels: int, opener: str) -> bytes:
    if opener == "[":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode("ascii")


def fixed_variants(body: dict[str, Any]) -> Iterator[tuple[str, bytes, str | None]]:
    """(label, raw body, content type) of the malformed bodies every endpoint gets."""
    for levels in (65, 1000, 10000):
        for opener in "[{":
            yield f"deep {opener} {levels}", deep(levels, opener), JSON
    yield "deep inside a field", b'{"a": ' + deep(200, "[") + b"}", JSON
    yield "unbalanced deep", b"[" * 10000, JSON
    yield "brackets in a string", dumps({"a": "[" * 10000}), JSON
    yield "huge string", dumps({"a": "x" * 900_000}), JSON
    yield "over the size limit", dumps({"a": "x" * 2_000_000}), JSON
    yield "escaped surrogate value", b'{"a": "\\ud800"}', JSON
    yield "escaped surrogate key", b'{"\\udfff": 1}', JSON
    yield "reversed surrogate pair", b'{"a": ["\\udc00\\ud800"]}', JSON
    yield "raw surrogate bytes", b'{"a": "\xed\xa0\x80"}', JSON
    yield "invalid utf-8", b'{"a": "\xff\xfe"}', JSON
    yield "truncated utf-8", b'{"a": "\xe2\x82"}', JSON
    yield "overlong utf-8", b'{"a": "\xc0\xaf"}', JSON
    yield "utf-16", json.dumps(body).encode("utf-16"), JSON
    yield "utf-8 bom", b"\xef\xbb\xbf" + dumps(body), JSON
    yield "latin-1 charset", '{"a": "caf\xe9"}'.encode("latin-1"), f"{JSON}; charset=latin-1"
    for top in ([], [body], "text", 1, 1.5, None, True):
        yield f"top-level {type(top).__name__}", dumps(top), JSON
    for constant in (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"9" * 5000):
        yield f"constant {constant[:8]!r}", b'{"a": ' + constant + b"}", JSON
    yield "empty", b"", JSON
    yield "whitespace", b" \n\t ", JSON
    yield "truncated", dumps(body)[:-1], JSON
    yield "trailing garbage", dumps(body) + b"}", JSON
    yield "nul bytes", b'{"a": "\\u0000"}\x00', JSON
    yield "text/plain", dumps(body), "text/plain"
    yield "form", b"a=1&b=2", "application/x-www-form-urlencoded"
    yield "no content type", dumps(body), None
    for path in leaf_paths(body):
        for wrong in WRONG_VALUES:
            label = f"{'.'.join(map(str, path))} = {str(wrong)[:12]!r}"
            yield label, dumps(replaced(body, path, wrong)), JSON
    for key in body:
        partial = {k: v for k, v in body.items() if k != key}
        yield f"without {key}", dumps(partial), JSON


def send(portal: InProcessApp, method: str, path: str, identity: str, raw: bytes,
         content_type: str | None) -> Any:
    headers = portal.headers(identity)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return portal.client.open(path, method=method, data=raw, headers=headers)


def test_the_sweep_finds_the_body_endpoints(portal: InProcessApp) -> None:
    endpoints = body_endpoints(portal)
    paths = {rule for _method, rule in endpoints}
    for expected in ("/api/v1/auth/login", "/api/v1/entities", "/api/v1/dashboard/config",
                     "/api/v1/auth/apikeys", "/api/v1/history"):
        assert expected in paths
    assert len(endpoints) >= 15


def test_no_malformed_body_answers_500(portal: InProcessApp) -> None:
    failures, seen = [], set()
    for method, rule, path, body in targets(portal):
        guarded = needs_role(portal, rule)
        variants = list(fixed_variants(body))
        for identity in IDENTITIES:
            for label, raw, content_type in variants:
                response = send(portal, method, path, identity, raw, content_type)
                lost = identity != "anonymous" and guarded and response.status_code == 401
                if response.status_code >= 500 or not response.is_json or lost:
                    failures.append(f"{method} {path} as {identity}, {label}: "
                                    f"{response.status_code} {response.get_data()[:120]!r}")
                seen.add(response.status_code)
    assert failures == []
    assert 400 in seen and 401 in seen and 403 in seen


def test_the_reader_refuses_what_the_sweep_sends(portal: InProcessApp) -> None:
    """The sweep is only as good as its bodies: as admin, each malformed kind is a 400 on
    an endpoint that reads its body (so a 500 could not hide behind a 401 or 404)."""
    expected = {"deep [ 65": "nested deeper than 64", "deep { 10000": "nested deeper than 64",
                "escaped surrogate key": "lone surrogate",
                "reversed surrogate pair": "lone surrogate",
                "raw surrogate bytes": "UTF-8", "invalid utf-8": "UTF-8",
                "constant b'NaN'": "NaN", "constant b'1e999'": "out of range",
                "top-level list": "must be an object"}
    variants = {label: (raw, ctype) for label, raw, ctype in fixed_variants({"name": "x"})}
    for label, needle in expected.items():
        raw, content_type = variants[label]
        response = send(portal, "POST", "/api/v1/auth/apikeys", "admin", raw, content_type)
        assert response.status_code == 400, (label, response.get_data())
        assert needle in response.get_json()["error"], (label, response.get_json())


_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20)


@pytest.fixture(scope="module")
def endpoints(portal: InProcessApp) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, body) for method, _rule, path, body in targets(portal)]


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_drawn_bodies_never_answer_500(portal: InProcessApp, endpoints: list,
                                       data: st.DataObject) -> None:
    method, path, body = data.draw(st.sampled_from(endpoints), label="endpoint")
    identity = data.draw(st.sampled_from(IDENTITIES), label="identity")
    paths = list(leaf_paths(body))
    if paths and data.draw(st.booleans(), label="mutate a documented field"):
        value = replaced(body, data.draw(st.sampled_from(paths)), data.draw(_JSON_VALUES))
    else:
        value = data.draw(_JSON_VALUES)
    raw = json.dumps(value).encode("ascii")
    response = send(portal, method, path, identity, raw, JSON)
    assert response.status_code < 500, (method, path, identity, raw[:200],
                                        response.get_data()[:200])


def test_sweep_repository_is_still_sound(portal: InProcessApp) -> None:
    """After the sweep, the dashboard file (which admins may have changed) still reads."""
    response = portal.client.get("/api/v1/dashboard/config", headers=portal.headers("viewer"))
    assert response.status_code == 200, response.get_data()


HOSTILE_QUERY_VALUES = ["-1", "0", "99999999999999999999999", "2147483648", "1e9", "NaN", "",
                        "\x00", "%ff", "x" * 5000, "../..", "🚀"]
# Already percent-encoded: a UTF-8-encoded surrogate, bytes that are not UTF-8, a NUL.
RAW_QUERY_VALUES = ["%ED%A0%80", "%FF%FE", "%C0%AF", "%00"]


def query_targets(portal: InProcessApp) -> Iterator[tuple[str, list[str]]]:
    """(concrete path, documented query parameter names) of every GET API route."""
    for rule in portal.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in openapi.UNDOCUMENTED_ENDPOINTS:
            continue
        operation = openapi.OPERATIONS.get(("get", openapi.openapi_path(rule.rule)), {})
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        if names and not rule.rule.endswith("/health-check"):
            yield concrete(rule.rule), names


def test_no_hostile_query_value_answers_500(portal: InProcessApp) -> None:
    """Every documented query parameter of every GET route, given hostile values."""
    failures, swept = [], 0
    for path, names in query_targets(portal):
        for name in names:
            encoded = [urlencode({name: value}) for value in HOSTILE_QUERY_VALUES]
            for value in encoded + [f"{name}={raw}" for raw in RAW_QUERY_VALUES]:
                query = value + ("&q=tiny" if name != "q" else "")
                response = portal.client.get(f"{path}?{query}", headers=portal.headers("admin"))
                swept += 1
                if response.status_code >= 500 or not response.is_json:
                    failures.append(f"GET {path}?{value[:30]}: "
                                    f"{response.status_code} {response.get_data()[:120]!r}")
    assert failures == []
    assert swept > 100
