"""Plugin settings through the API: redaction, preservation, enable, roles, restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from runner.plugins.settings import plugin_config
from runner.store.schema import open_store
from runner.store.secrets import SecretBox
from tests.runner.inprocess import InProcessApp, start_app
from tests.support.runner_process import SECRET_KEY, RunnerProcess, make_catalog_repo

pytestmark = pytest.mark.xdist_group("plugins-settings")
REDACTED = "__GANTRY_SECRET_REDACTED__"
PAT = "ghp_plaintextTokenThatMustNeverLeak0001"


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[InProcessApp]:
    """The app in process, with plugin settings of its own (no other test sees them)."""
    for app in start_app(tmp_path_factory.mktemp("plugin-settings"), tiny=False):
        app.tokens.update({role: app.create_user(f"user-{role}", role)
                           for role in ("viewer", "developer", "platform-engineer")})
        yield app


def decrypted(runner: InProcessApp | RunnerProcess, name: str) -> dict:
    store = open_store(runner.data_dir / "gantry.db")
    try:
        return plugin_config(store, name, SecretBox(SECRET_KEY))
    finally:
        store.close()


def test_lists_all_bundled_plugins_with_state(api):
    response = api.http.get(api.url("/api/v1/plugins"),
                            headers=api.auth(api.tokens["viewer"]))
    assert response.status_code == 200
    names = {p["name"]: p for p in response.json()}
    assert set(names) == {"github", "argocd", "gitops", "flux"}
    assert all(isinstance(p["enabled"], bool) for p in names.values())


def test_secret_is_encrypted_redacted_and_preserved(api):
    token = api.tokens["platform-engineer"]
    with api.http_client(token) as client:
        put = client.put("/api/v1/plugins/github/config",
                         json={"authMode": "pat", "personalAccessToken": PAT})
        assert put.status_code == 200, put.text
        assert put.json()["personalAccessToken"] == REDACTED
        assert put.json()["apiUrl"] == "https://api.github.com"  # the default

        got = client.get("/api/v1/plugins/github/config").json()
        assert got["personalAccessToken"] == REDACTED
        assert PAT not in client.get("/api/v1/plugins/github").text

        # sending the placeholder back keeps the stored secret while other fields change
        got["appId"] = "4242"
        assert client.put("/api/v1/plugins/github/config", json=got).status_code == 200
    stored = decrypted(api, "github")
    assert stored["personalAccessToken"] == PAT
    assert stored["appId"] == "4242"

    # never in plain text in the store file, nor in the audit log
    raw = b"".join(p.read_bytes() for p in api.data_dir.glob("gantry.db*"))
    assert PAT.encode() not in raw
    audit = api.http.get(api.url("/api/v1/audit?limit=100"), headers=api.auth())
    if audit.status_code == 200:
        assert PAT not in audit.text
        assert "plugin.config.update" in audit.text


def test_placeholder_without_stored_secret_is_refused(api):
    response = api.http.put(api.url("/api/v1/plugins/flux/config"), headers=api.auth(),
                            json={"receiverUrl": "http://127.0.0.1:1/hook/x", "secret": REDACTED})
    assert response.status_code == 400
    assert "secret" in response.json()["error"]


def test_array_secrets_follow_instance_names(api):
    with api.http_client() as client:
        config = {"instances": [
            {"name": "production", "argocdUrl": "https://argocd.example.com", "token": "tok-prod"},
            {"name": "staging", "argocdUrl": "https://argocd-stg.example.com",
             "username": "gantry", "password": "pw-staging"},
        ], "labelKey": "app"}
        assert client.put("/api/v1/plugins/argocd/config", json=config).status_code == 200
        shown = client.get("/api/v1/plugins/argocd/config").json()
        assert shown["instances"][0]["token"] == REDACTED
        assert shown["instances"][1]["password"] == REDACTED
        shown["instances"].reverse()  # reordered: each keeps its own secret
        assert client.put("/api/v1/plugins/argocd/config", json=shown).status_code == 200
    stored = decrypted(api, "argocd")
    by_name = {i["name"]: i for i in stored["instances"]}
    assert by_name["production"]["token"] == "tok-prod"
    assert by_name["staging"]["password"] == "pw-staging"


def test_invalid_config_names_the_field(api):
    response = api.http.put(api.url("/api/v1/plugins/argocd/config"), headers=api.auth(),
                            json={"instances": [{"name": "x", "argocdUrl": "not a url"}]})
    assert response.status_code == 400
    assert "instances[0].argocdUrl" in response.json()["error"]
    unknown = api.http.put(api.url("/api/v1/plugins/gitops/config"), headers=api.auth(),
                           json={"repoUrl": "x", "autoPsh": True})
    assert unknown.status_code == 400 and "autoPsh" in unknown.json()["error"]
    missing = api.http.get(api.url("/api/v1/plugins/nope/config"), headers=api.auth())
    assert missing.status_code == 404


def test_enable_refused_while_required_settings_missing(api):
    with api.http_client() as client:
        client.put("/api/v1/plugins/github/config", json={"authMode": "app", "appId": "12"})
        refused = client.put("/api/v1/plugins/github/enable", json={"enabled": True})
        assert refused.status_code == 409
        body = refused.json()
        assert "installationId" in body["error"] and "privateKey" in body["error"]
        assert set(body["missing"]) == {"installationId", "privateKey"}
        assert client.put("/api/v1/plugins/github/enable",
                          json={"enabled": "yes"}).status_code == 400
        client.put("/api/v1/plugins/github/config", json={
            "authMode": "app", "appId": "12", "installationId": 34,
            "privateKey": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"})
        enabled = client.put("/api/v1/plugins/github/enable", json={"enabled": True})
        assert enabled.status_code == 200 and enabled.json()["enabled"] is True
        # while enabled, a config that drops a required setting is refused
        lacking = client.put("/api/v1/plugins/github/config",
                             json={"authMode": "app", "appId": "12"})
        assert lacking.status_code == 409
        listed = {p["name"]: p for p in client.get("/api/v1/plugins").json()}
        assert listed["github"]["enabled"] is True


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/v1/plugins/github", None),
    ("GET", "/api/v1/plugins/github/config", None),
    ("PUT", "/api/v1/plugins/flux/config", {"receiverUrl": "http://127.0.0.1:9/hook/a"}),
    ("PUT", "/api/v1/plugins/flux/enable", {"enabled": False}),
    ("POST", "/api/v1/plugins/argocd/sync", None),
])
def test_settings_need_platform_engineer(api, method, path, body):
    for role in ("viewer", "developer"):
        response = api.http.request(method, api.url(path), json=body,
                                    headers=api.auth(api.tokens[role]))
        assert response.status_code == 403, (role, response.text)
    anonymous = api.http.request(method, api.url(path), json=body)
    assert anonymous.status_code == 401


def test_gitops_push_and_pull_are_admin_only(api):
    for path in ("/api/v1/plugins/gitops/sync", "/api/v1/plugins/gitops/pull"):
        response = api.http.post(api.url(path),
                                 headers=api.auth(api.tokens["platform-engineer"]))
        assert response.status_code == 403, response.text


def test_store_has_no_plaintext_column_for_secrets(api):
    with sqlite3.connect(api.data_dir / "gantry.db") as db:
        rows = db.execute("SELECT config_json FROM plugin_settings").fetchall()
    assert rows and all(PAT not in r[0] for r in rows)


def test_settings_survive_a_restart(tmp_path):
    """A `gantry serve` of its own, stopped and started again on the same data."""
    repo = make_catalog_repo(tmp_path / "repo")
    with RunnerProcess(repo / "catalog", tmp_path / "data") as runner:
        assert httpx.put(runner.url("/api/v1/plugins/flux/config"), headers=runner.auth(),
                         json={"receiverUrl": "http://127.0.0.1:9/hook/abc",
                               "secret": "flux-token-1"}).status_code == 200
        assert httpx.put(runner.url("/api/v1/plugins/flux/enable"), headers=runner.auth(),
                         json={"enabled": True}).status_code == 200
        runner.stop()
        runner.start()
        config = httpx.get(runner.url("/api/v1/plugins/flux/config"), headers=runner.auth())
        assert config.json()["receiverUrl"] == "http://127.0.0.1:9/hook/abc"
        assert config.json()["secret"] == REDACTED
        listed = {p["name"]: p for p in httpx.get(runner.url("/api/v1/plugins"),
                                                  headers=runner.auth()).json()}
        assert listed["flux"]["enabled"] is True
        assert decrypted(runner, "flux")["secret"] == "flux-token-1"
