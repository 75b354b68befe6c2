"""The runner app in this process, on a real temporary Git catalog, for Flask test clients.

API contract checks (roles, errors, reads, settings, the bad-input sweep) use it instead of
a `gantry serve` process: same app, same catalog repository, no HTTP round trip and no
start-up of a child process. `InProcessApp` answers the same calls as `RunnerProcess`
(`url`, `auth`, `create_user`, `http.get/post/...`, and `http_client` for its `client`),
every request going through Flask's test client (`client`), so a test reads the same
whichever runner it uses. Tests about the process itself (serve, restart, crash,
WebSocket, end to end) keep `RunnerProcess`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from flask.testing import FlaskClient

from runner.app import create_app
from runner.config import Settings
from tests.support.runner_process import SECRET_KEY, Http, make_catalog_repo, make_tiny_catalog

ADMIN_PASSWORD = "password-for-inprocess-tests"
USER_PASSWORD = "password-123"


BASE_URL = "http://127.0.0.1"
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection"}


class FlaskTransport(httpx.BaseTransport):
    """httpx requests answered by Flask's test client: no socket, same WSGI app.

    The test client keeps no cookies of its own (httpx's client does, as a browser would).
    """

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(key, value) for key, value in request.headers.multi_items()
                   if key.lower() not in _HOP_BY_HOP]
        answer = self.client.open(request.url.raw_path.decode("ascii"), method=request.method,
                                  headers=headers, data=request.read(),
                                  base_url=f"{request.url.scheme}://{request.url.netloc.decode()}")
        try:
            return httpx.Response(answer.status_code, headers=list(answer.headers.items()),
                                  content=answer.get_data(), request=request)
        finally:
            answer.close()


@dataclass
class InProcessApp:
    """An app, its test client, its catalog repository and an API key per identity."""

    app: Flask
    client: FlaskClient
    repo: Path
    tokens: dict[str, str | None] = field(default_factory=dict)
    base_url: str = BASE_URL

    @property
    def http(self) -> Http:
        return Http(FlaskTransport(self.client))

    @property
    def catalog(self) -> Path:
        return self.repo / "catalog"

    @property
    def data_dir(self) -> Path:
        return self.app.extensions["gantry"].settings.data_dir

    @property
    def admin_token(self) -> str | None:
        return self.tokens["admin"]

    @property
    def admin_password(self) -> str:
        return ADMIN_PASSWORD

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def auth(self, token: str | None = None) -> dict[str, str]:
        """The Authorization header for `token` (default: the admin's)."""
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def http_client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on this app, authenticated as `token` (default admin): what
        `RunnerProcess.client` is for a process."""
        return httpx.Client(transport=FlaskTransport(self.client), base_url=self.base_url,
                            headers=self.auth(token), timeout=30, **kwargs)

    def create_user(self, username: str, role: str, password: str = USER_PASSWORD) -> str:
        """Create a user through the API and return a session token for it."""
        response = self.client.post("/api/v1/auth/users", headers=self.auth(),
                                    json={"username": username, "password": password,
                                          "role": role})
        assert response.status_code in (201, 409), response.get_data(as_text=True)
        return self.login(username, password)

    def headers(self, identity: str) -> dict[str, str]:
        token = self.tokens[identity]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def login(self, username: str, password: str) -> str:
        response = self.client.post("/api/v1/auth/login",
                                    json={"username": username, "password": password})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["token"]

    def add_user(self, username: str, role: str) -> str:
        response = self.client.post("/api/v1/auth/users", headers=self.headers("admin"),
                                    json={"username": username, "password": USER_PASSWORD,
                                          "role": role})
        assert response.status_code == 201, response.get_data(as_text=True)
        return self.api_key(self.login(username, USER_PASSWORD))

    def api_key(self, session: str) -> str:
        """An API key for the session's user: unlike a session, no request can end it
        except a DELETE of the key, so a sweep that calls logout keeps its identities."""
        response = self.client.post("/api/v1/auth/apikeys", json={"name": "in-process"},
                                    headers={"Authorization": f"Bearer {session}"})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["key"]


def start_app(base: Path, *, tiny: bool = True, extra_files: dict[str, str] | None = None,
              **settings: Any) -> Iterator[InProcessApp]:
    """Build the app on a fresh repository under `base`; identities anonymous, viewer,
    developer and admin. Stops the app's background services afterwards."""
    catalog = make_tiny_catalog(base / "tiny") if tiny else None
    repo = make_catalog_repo(base / "repo", catalog=catalog, extra_files=extra_files)
    app = create_app(Settings(catalog=repo / "catalog", data_dir=base / "data",
                              secret_key=SECRET_KEY, admin_password=ADMIN_PASSWORD,
                              **settings))
    portal = InProcessApp(app, app.test_client(use_cookies=False), repo, {"anonymous": None})
    portal.tokens["admin"] = portal.api_key(portal.login("admin", ADMIN_PASSWORD))
    portal.tokens["viewer"] = portal.add_user("sweep-viewer", "viewer")
    portal.tokens["developer"] = portal.add_user("sweep-developer", "developer")
    try:
        yield portal
    finally:
        state = app.extensions["gantry"]
        # the background threads a `gantry serve` would end with its process
        for service in (state.plugins, state.engine, state.workspace):
            if service is not None and hasattr(service, "stop"):
                service.stop()
