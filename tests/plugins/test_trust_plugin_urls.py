"""A stored plugin secret is bound to the URL it is sent to: changing that URL needs the
secret again, so the redacted placeholder can never re-point a stored token."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from runner.plugins.settings import plugin_config
from runner.store.schema import open_store
from runner.store.secrets import SecretBox
from tests.plugins.fakes.argocd import FakeArgoCD
from tests.runner.inprocess import InProcessApp, start_app
from tests.support.runner_process import SECRET_KEY

pytestmark = pytest.mark.xdist_group("plugins-trust-urls")
REDACTED = "__GANTRY_SECRET_REDACTED__"


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[InProcessApp]:
    """The app in process, with plugin settings of its own (no other test sees them)."""
    for app in start_app(tmp_path_factory.mktemp("trust-urls"), tiny=False):
        app.pe_token = app.create_user("settings-keeper", "platform-engineer")
        yield app


def stored(api: InProcessApp, name: str) -> dict:
    store = open_store(api.data_dir / "gantry.db")
    try:
        return plugin_config(store, name, SecretBox(SECRET_KEY))
    finally:
        store.close()


def at(config: dict, path: tuple):
    for part in path:
        config = config[part]
    return config


def field_name(path: tuple) -> str:
    """`instances[1].token` for ("instances", 1, "token")."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def put_at(config: dict, path: tuple, value) -> None:
    at(config, path[:-1])[path[-1]] = value


# plugin, initial config, path of the URL, path of the secret, a new URL
CASES = {
    "github-pat": ("github", {"authMode": "pat", "personalAccessToken": "ghp_storedOne0001",
                              "apiUrl": "https://github.acme.internal/api/v3"},
                   ("apiUrl",), ("personalAccessToken",), "http://127.0.0.1:9/api/v3"),
    "github-default-url": ("github", {"authMode": "pat", "personalAccessToken": "ghp_dflt0002"},
                           ("apiUrl",), ("personalAccessToken",),
                           "https://api.github.example.org"),
    "github-app-key": ("github", {"authMode": "app", "appId": "7", "installationId": "8",
                                  "privateKey": "-----BEGIN KEY-----\nk\n-----END KEY-----",
                                  "apiUrl": "https://ghe.acme.internal/api/v3"},
                       ("apiUrl",), ("privateKey",), "https://ghe.acme.internal.evil/api/v3"),
    "argocd-token": ("argocd", {"instances": [
        {"name": "staging", "argocdUrl": "https://argocd-stg.acme.internal",
         "username": "gantry", "password": "pw-staging-0003"},
        {"name": "production", "argocdUrl": "https://argocd.acme.internal",
         "token": "argo-token-0004"}]},
        ("instances", 1, "argocdUrl"), ("instances", 1, "token"),
        "https://argocd.acme.internal:8443"),
    "argocd-password": ("argocd", {"instances": [
        {"name": "staging", "argocdUrl": "https://argocd-stg.acme.internal",
         "username": "gantry", "password": "pw-staging-0005"}]},
        ("instances", 0, "argocdUrl"), ("instances", 0, "password"),
        "https://argocd-stg.acme.internal/"),
    "gitops": ("gitops", {"repoUrl": "https://git.acme.internal/catalog.git",
                          "authToken": "git-token-0006", "branch": "main"},
               ("repoUrl",), ("authToken",), "https://git.elsewhere.example/catalog.git"),
    "gitops-from-origin": ("gitops", {"authToken": "git-token-0007"},
                           ("repoUrl",), ("authToken",), "ssh://git@git.elsewhere.example/c"),
    "flux": ("flux", {"receiverUrl": "https://flux.acme.internal/hook/abc", "secret": "fx-0008"},
             ("receiverUrl",), ("secret",), "https://flux.acme.internal/hook/other"),
}


@pytest.fixture(params=sorted(CASES))
def case(request, api):
    name, initial, url_path, secret_path, new_url = CASES[request.param]
    with api.http_client(api.pe_token) as client:
        client.put(f"/api/v1/plugins/{name}/enable", json={"enabled": False})
        response = client.put(f"/api/v1/plugins/{name}/config", json=initial)
        assert response.status_code == 200, response.text
        shown = client.get(f"/api/v1/plugins/{name}/config").json()
    assert at(shown, secret_path) == REDACTED
    return name, initial, url_path, secret_path, new_url, shown


def test_url_change_with_placeholder_is_refused(api, case):
    name, initial, url_path, secret_path, new_url, shown = case
    before = stored(api, name)
    changed = copy.deepcopy(shown)
    put_at(changed, url_path, new_url)
    response = api.http.put(api.url(f"/api/v1/plugins/{name}/config"), json=changed,
                            headers=api.auth(api.pe_token))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(field_name(secret_path)), error
    assert str(url_path[-1]) in error
    assert stored(api, name) == before


def test_url_change_with_the_secret_sent_again_is_accepted(api, case):
    name, _initial, url_path, secret_path, new_url, shown = case
    changed = copy.deepcopy(shown)
    put_at(changed, url_path, new_url)
    put_at(changed, secret_path, "a-new-secret-for-the-new-url")
    response = api.http.put(api.url(f"/api/v1/plugins/{name}/config"), json=changed,
                            headers=api.auth(api.pe_token))
    assert response.status_code == 200, response.text
    after = stored(api, name)
    assert at(after, url_path) == new_url
    assert at(after, secret_path) == "a-new-secret-for-the-new-url"


def test_same_url_with_placeholder_keeps_the_secret(api, case):
    name, initial, url_path, secret_path, _new_url, shown = case
    changed = copy.deepcopy(shown)
    if name == "argocd":
        changed["labelKey"] = "app.kubernetes.io/name"
        changed["instances"].reverse()  # matched by name, the URL still the same
    elif name == "github":
        changed["installationId"] = "99"
    elif name == "gitops":
        changed["autoPush"] = True
    else:
        changed["timeout"] = 20
    response = api.http.put(api.url(f"/api/v1/plugins/{name}/config"), json=changed,
                            headers=api.auth(api.pe_token))
    assert response.status_code == 200, response.text
    after = stored(api, name)
    if name == "argocd":  # reordered: follow the instance by its name
        wanted = initial["instances"][secret_path[1]]
        after = {"instances": {secret_path[1]: next(
            i for i in after["instances"] if i["name"] == wanted["name"])}}
    assert at(after, secret_path) == at(initial, secret_path)


def test_a_stored_argocd_token_never_reaches_a_new_url(api):
    """End to end: the refused change leaves every call on the old server; the new server
    sees only the token sent for it."""
    with FakeArgoCD() as old, FakeArgoCD() as new:
        old.add_app("payment-api")
        new.add_app("payment-api")
        old_token, new_token = old.issue_token(), new.issue_token()
        with api.http_client(api.pe_token) as client:
            config = {"instances": [{"name": "production", "argocdUrl": old.url,
                                     "token": old_token}]}
            assert client.put("/api/v1/plugins/argocd/config", json=config).status_code == 200
            assert client.put("/api/v1/plugins/argocd/enable",
                              json={"enabled": True}).status_code == 200
            shown = client.get("/api/v1/plugins/argocd/config").json()
            shown["instances"][0]["argocdUrl"] = new.url
            refused = client.put("/api/v1/plugins/argocd/config", json=shown)
            assert refused.status_code == 400, refused.text
            assert "instances[0].token" in refused.json()["error"]

            assert client.get("/api/v1/plugins/argocd/apps/payment-api").status_code == 200
            assert client.post("/api/v1/plugins/argocd/apps/payment-api/refresh",
                               json={}).status_code == 200
            assert new.requests == []
            assert {r["authorization"] for r in old.requests} == {f"Bearer {old_token}"}

            shown["instances"][0]["token"] = new_token
            assert client.put("/api/v1/plugins/argocd/config", json=shown).status_code == 200
            assert client.get("/api/v1/plugins/argocd/apps/payment-api").status_code == 200
            client.put("/api/v1/plugins/argocd/enable", json={"enabled": False})
        assert new.requests
        assert {r["authorization"] for r in new.requests} == {f"Bearer {new_token}"}
