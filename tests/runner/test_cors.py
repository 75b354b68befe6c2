"""`GANTRY_CORS_ORIGINS` on a real `gantry serve`: CORS with credentials for the listed
origins only, preflights answered, and the cross-site rules for cookie writes unchanged
except that a listed origin is trusted like the runner's own."""

from __future__ import annotations

import pytest

from runner.config import ConfigError, parse_origins
from tests.support.runner_process import RunnerProcess, git, http, make_tiny_catalog

SITE = "https://portal.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    root = tmp_path_factory.mktemp("cors")
    catalog = make_tiny_catalog(root / "repo" / "catalog")
    git(root / "repo", "init", "-q", "-b", "main")
    git(root / "repo", "add", "-A")
    git(root / "repo", "commit", "-q", "-m", "Seed")
    with RunnerProcess(catalog, root / "data",
                       env={"GANTRY_CORS_ORIGINS": f"{SITE}, http://localhost:3000"}) as started:
        yield started


def session_cookie(runner: RunnerProcess) -> dict[str, str]:
    answer = http.post(runner.url("/api/v1/auth/login"),
                       json={"username": "admin", "password": runner.admin_password})
    return {"gantry_session": answer.cookies["gantry_session"]}


def test_preflight_from_a_listed_origin_is_answered(runner):
    answer = http.request("OPTIONS", runner.url("/api/v1/auth/apikeys"), headers={
        "Origin": SITE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-requested-with"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "PATCH" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "x-requested-with" in allowed and "if-match" in allowed


def test_preflight_from_another_origin_is_refused_without_cors_headers(runner):
    answer = http.request("OPTIONS", runner.url("/api/v1/auth/apikeys"), headers={
        "Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert answer.status_code == 403
    assert "not in GANTRY_CORS_ORIGINS" in answer.json()["error"]
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_answers_carry_credentials_cors_for_listed_origins_only(runner):
    cookies = session_cookie(runner)
    mine = http.get(runner.url("/api/v1/auth/me"), cookies=cookies, headers={"Origin": SITE})
    assert mine.status_code == 200
    assert mine.headers["Access-Control-Allow-Origin"] == SITE
    assert mine.headers["Access-Control-Allow-Credentials"] == "true"
    assert "X-Gantry-Commit" in mine.headers["Access-Control-Expose-Headers"]
    assert "Origin" in mine.headers["Vary"]
    theirs = http.get(runner.url("/api/v1/auth/me"), cookies=cookies, headers={"Origin": OTHER})
    assert "Access-Control-Allow-Origin" not in theirs.headers


def test_cookie_writes_accept_a_listed_origin_and_refuse_others(runner):
    cookies = session_cookie(runner)
    body = {"name": "from-the-portal"}
    listed = http.post(runner.url("/api/v1/auth/apikeys"), cookies=cookies, json=body,
                       headers={"Origin": "http://localhost:3000"})
    assert listed.status_code == 201, listed.text
    refused = http.post(runner.url("/api/v1/auth/apikeys"), cookies=cookies, json=body,
                        headers={"Origin": OTHER, "X-Requested-With": "x"})
    assert refused.status_code == 403 and "cross-site" in refused.json()["error"]
    no_origin = http.post(runner.url("/api/v1/auth/apikeys"), cookies=cookies, json=body)
    assert no_origin.status_code == 403  # neither Origin nor X-Requested-With: as before


@pytest.mark.parametrize("text", ["*", "portal.example.com", "https://portal.example.com/app",
                                  "ftp://portal.example.com", "https://user:pw@portal.example.com"])
def test_bad_origins_are_refused_with_a_clear_message(text):
    with pytest.raises(ConfigError, match="GANTRY_CORS_ORIGINS: .* is not an origin"):
        parse_origins(text)


def test_origins_are_normalised():
    assert parse_origins(" https://Portal.Example.com/ , http://localhost:3000") == (
        "https://portal.example.com", "http://localhost:3000")
