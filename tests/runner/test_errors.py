"""Every failure answers JSON `{"error": ...}` with the right status, never HTML or 500."""

from __future__ import annotations

import httpx
import pytest

from tests.runner.inprocess import InProcessApp


def assert_json_error(response: httpx.Response, status: int, needle: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert needle.lower() in body["error"].lower()
    return body


def test_unknown_api_route_is_json_404(api: InProcessApp) -> None:
    assert_json_error(api.http.get(api.url("/api/v1/no-such-thing")), 404, "no such route")
    assert_json_error(api.http.post(api.url("/api/v1/no-such-thing"), json={}), 404)


def test_unknown_site_page_is_json_404(api: InProcessApp) -> None:
    assert_json_error(api.http.get(api.url("/no/such/page.html")), 404)


def test_method_not_allowed_is_json_405_with_allow(api: InProcessApp) -> None:
    response = api.http.delete(api.url("/api/v1/auth/me"), headers=api.auth())
    body = assert_json_error(response, 405, "not allowed")
    assert "DELETE" in body["error"]
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(api: InProcessApp) -> None:
    response = api.http.post(api.url("/api/v1/history"), content=b'{"kind": ',
                             headers={**api.auth(), "Content-Type": "application/json"})
    assert_json_error(response, 400, "malformed JSON")


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"42"])
def test_json_that_is_not_an_object_is_400(api: InProcessApp, payload: bytes) -> None:
    response = api.http.post(api.url("/api/v1/history"), content=payload,
                             headers={**api.auth(), "Content-Type": "application/json"})
    assert_json_error(response, 400, "must be an object")


def test_wrong_content_type_is_415(api: InProcessApp) -> None:
    response = api.http.post(api.url("/api/v1/auth/login"), content=b"username=admin",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_json_error(response, 415, "application/json")


def test_empty_body_is_400(api: InProcessApp) -> None:
    response = api.http.post(api.url("/api/v1/auth/login"),
                             headers={"Content-Type": "application/json"})
    assert_json_error(response, 400, "empty")


def test_huge_body_is_413_and_changes_nothing(api: InProcessApp) -> None:
    huge = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = api.http.post(api.url("/api/v1/auth/users"), content=huge,
                             headers={**api.auth(), "Content-Type": "application/json"})
    assert_json_error(response, 413, "too large")
    assert api.http.get(api.url("/healthz")).status_code == 200


def test_invalid_utf8_body_is_400(api: InProcessApp) -> None:
    response = api.http.post(api.url("/api/v1/history"), content=b'{"kind": "\xff\xfe"}',
                             headers={**api.auth(), "Content-Type": "application/json"})
    assert_json_error(response, 400)
