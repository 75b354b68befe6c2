"""The GitHub client: PAT and GitHub App authentication, GitHub Enterprise paths, rate limits
and server errors, against the fake GitHub server."""

from __future__ import annotations

import time

import httpx
import pytest

from runner.plugins.github.auth import AppAuth, _TokenCache
from runner.plugins.github.client import GitHubClient
from runner.plugins.github.errors import GitHubError, GitHubUnavailable, RateLimited
from runner.plugins.github.settings import GitHubConfigError, GitHubSettings

from .conftest import PAT, app_config, pat_config
from .fake_github import App, FakeGitHub


def make_app(public_key: str, lifetime: float = 3600.0) -> App:
    return App(app_id="123456", installation_id="987", public_key=public_key,
               token_lifetime=lifetime)


def app_client(server: FakeGitHub, private_key: str, app: App, seen: list[str],
               cache: _TokenCache | None = None) -> GitHubClient:
    settings = GitHubSettings.from_config(app_config(server, private_key, app))
    client = GitHubClient(settings, http=httpx.Client(), on_secret=seen.append)
    client.auth = AppAuth(settings, client.http, on_secret=seen.append,
                          cache=cache or _TokenCache())
    return client


def test_pat_is_sent_as_bearer_token(github):
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)))
    assert client.workflow_runs("acme", "deployments", "deploy.yml", branch="main",
                                created_since=time.time()) == []
    [request] = github.requests
    assert request.headers["authorization"] == f"Bearer {PAT}"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def test_app_auth_exchanges_a_verified_jwt_and_caches_the_token(app_keys):
    private, public = app_keys
    app = make_app(public)
    with FakeGitHub(app=app) as server:
        server.add_workflow("acme", "deployments", "deploy.yml")
        seen: list[str] = []
        client = app_client(server, private, app, seen)
        for _ in range(3):
            client.workflow_runs("acme", "deployments", "deploy.yml", branch="main",
                                 created_since=0)
        exchanges = server.requests_to("POST", "/app/installations/987/access_tokens")
        assert len(exchanges) == 1  # one installation token serves all three reads
        [token] = server.installation_tokens
        reads = server.requests_to("GET", "/runs")
        assert {r.headers["authorization"] for r in reads} == {f"Bearer {token}"}
        assert token in seen and private.strip() in seen  # both reported as secrets
        app_jwt = exchanges[0].headers["authorization"].removeprefix("Bearer ")
        assert app_jwt in seen


def test_installation_token_is_renewed_before_it_expires(app_keys):
    private, public = app_keys
    app = make_app(public, lifetime=240)  # less than the five minutes kept in reserve
    with FakeGitHub(app=app) as server:
        server.add_workflow("acme", "deployments", "deploy.yml")
        client = app_client(server, private, app, [])
        for _ in range(2):
            client.workflow_runs("acme", "deployments", "deploy.yml", branch="main",
                                 created_since=0)
        assert len(server.installation_tokens) == 2
        tokens = [r.headers["authorization"] for r in server.requests_to("GET", "/runs")]
        assert len(set(tokens)) == 2


def test_revoked_installation_token_is_replaced_once(app_keys):
    private, public = app_keys
    app = make_app(public)
    with FakeGitHub(app=app) as server:
        server.add_workflow("acme", "deployments", "deploy.yml")
        client = app_client(server, private, app, [])
        client.workflow_runs("acme", "deployments", "deploy.yml", branch="main",
                             created_since=0)
        server.installation_tokens.clear()  # revoked on GitHub's side
        client.workflow_runs("acme", "deployments", "deploy.yml", branch="main",
                             created_since=0)
        assert len(server.requests_to("POST", "/access_tokens")) == 2


def test_wrong_app_key_is_refused_by_github(app_keys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    app = make_app(app_keys[1])
    with FakeGitHub(app=app) as server:
        client = app_client(server, other, app, [])
        with pytest.raises(GitHubError) as caught:
            client.run("acme", "deployments", 1)
        assert caught.value.status == 401
        assert "GitHub App authentication failed" in str(caught.value)
        assert "BEGIN" not in str(caught.value)


def test_malformed_private_key_is_a_config_error_without_the_key(github):
    app = make_app("unused")
    settings = GitHubSettings.from_config(app_config(github, "-----BEGIN nonsense", app))
    with pytest.raises(GitHubConfigError) as caught:
        GitHubClient(settings).run("acme", "deployments", 1)
    assert "privateKey" in str(caught.value) and "nonsense" not in str(caught.value)


def test_github_enterprise_api_prefix(app_keys):
    private, public = app_keys
    app = make_app(public)
    with FakeGitHub(prefix="/api/v3", app=app) as ghe:
        ghe.add_workflow("acme", "deployments", "deploy.yml")
        client = app_client(ghe, private, app, [])
        dispatched = client.dispatch("acme", "deployments", "deploy.yml", "main", {})
        run = client.run("acme", "deployments", dispatched.run_id)
        assert run["url"].startswith(f"{ghe.base_url}/api/v3/repos/acme/deployments/")
        paths = [r.path for r in ghe.requests]
        assert paths == ["/api/v3/app/installations/987/access_tokens",
                         "/api/v3/repos/acme/deployments/actions/workflows/deploy.yml/dispatches",
                         f"/api/v3/repos/acme/deployments/actions/runs/{dispatched.run_id}"]


def test_trailing_slash_and_bad_api_url():
    assert GitHubSettings.from_config({"personalAccessToken": "x",
                                       "apiUrl": "https://ghe.example/api/v3/"}).api_url == \
        "https://ghe.example/api/v3"
    with pytest.raises(GitHubConfigError):
        GitHubSettings.from_config({"personalAccessToken": "x", "apiUrl": "ghe.example"})
    with pytest.raises(GitHubConfigError) as caught:
        GitHubSettings.from_config({"authMode": "app", "appId": 1})
    assert "installationId, privateKey not set" in str(caught.value)


def test_retry_after_is_honoured_on_reads(github):
    github.fail("GET", "/runs", 429, headers={"retry-after": "1"},
                message="API rate limit exceeded")
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)))
    started = time.monotonic()
    client.workflow_runs("acme", "deployments", "deploy.yml", branch="main", created_since=0)
    assert time.monotonic() - started >= 0.95
    reads = github.requests_to("GET", "/runs")
    assert len(reads) == 2 and reads[1].at - reads[0].at >= 0.95


def test_ratelimit_reset_is_honoured_on_reads(github):
    reset = int(time.time()) + 1
    github.fail("GET", "/runs", 403, message="API rate limit exceeded for user ID 1.",
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)))
    client.workflow_runs("acme", "deployments", "deploy.yml", branch="main", created_since=0)
    reads = github.requests_to("GET", "/runs")
    assert len(reads) == 2 and reads[1].at >= reset


def test_a_long_rate_limit_is_left_to_the_caller(github):
    github.fail("GET", "/actions/runs/", 429, headers={"retry-after": "120"})
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)))
    with pytest.raises(RateLimited) as caught:
        client.run("acme", "deployments", 5)
    assert caught.value.retry_in == 120
    assert len(github.requests) == 1  # not slept through in the caller's thread


def test_403_without_rate_limit_headers_is_a_permission_error(github):
    github.fail("GET", "/actions/runs/", 403,
                message="Resource not accessible by personal access token")
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)))
    with pytest.raises(GitHubError) as caught:
        client.run("acme", "deployments", 5)
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.message == "Resource not accessible by personal access token"


def test_server_errors_on_reads_are_retried_then_reported(github):
    workflow = github.workflows[0]
    run = github.add_run(workflow)
    github.fail("GET", "/actions/runs/", 502, times=2)
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)), sleep=lambda _s: None)
    assert client.run("acme", "deployments", run.id)["id"] == run.id
    github.fail("GET", "/actions/runs/", 503, times=10)
    with pytest.raises(GitHubUnavailable) as caught:
        client.run("acme", "deployments", run.id)
    assert caught.value.status == 503
    assert len(github.requests_to("GET", "/actions/runs/")) == 3 + 4


def test_unreachable_github():
    with FakeGitHub() as server:
        url = server.api_url
    client = GitHubClient(GitHubSettings.from_config({"personalAccessToken": PAT,
                                                      "apiUrl": url}), sleep=lambda _s: None)
    with pytest.raises(GitHubUnavailable) as caught:
        client.run("acme", "deployments", 1)
    assert "cannot reach GitHub" in str(caught.value) and PAT not in str(caught.value)


def test_secondary_rate_limit_without_headers_waits_a_minute(github):
    github.fail("GET", "/actions/runs/", 403,
                message="You have exceeded a secondary rate limit. Please wait a few minutes "
                        "before you try again.")
    client = GitHubClient(GitHubSettings.from_config(pat_config(github)))
    with pytest.raises(RateLimited) as caught:
        client.run("acme", "deployments", 5)
    assert caught.value.retry_in == 60
