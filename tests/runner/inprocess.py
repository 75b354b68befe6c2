"""The runner app in this process, on a real temporary Git catalog, for Flask test clients.

Contract checks that send many requests (the bad-input sweep) use it instead of a
`gantry serve` process: same app, same catalog repository, no HTTP round trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from runner.app import create_app
from runner.config import Settings
from tests.support.runner_process import SECRET_KEY, make_catalog_repo, make_tiny_catalog

ADMIN_PASSWORD = "password-for-inprocess-tests"
USER_PASSWORD = "password-123"


@dataclass
class InProcessApp:
    """An app, its test client, its catalog repository and an API key per identity."""

    app: Flask
    client: FlaskClient
    repo: Path
    tokens: dict[str, str | None] = field(default_factory=dict)

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


def start_app(base: Path, *, tiny: bool = True, **settings: Any) -> Iterator[InProcessApp]:
    """Build the app on a fresh repository under `base`; identities anonymous, viewer,
    developer and admin. Stops the workspace afterwards."""
    catalog = make_tiny_catalog(base / "tiny") if tiny else None
    repo = make_catalog_repo(base / "repo", catalog=catalog)
    app = create_app(Settings(catalog=repo / "catalog", data_dir=base / "data",
                              secret_key=SECRET_KEY, admin_password=ADMIN_PASSWORD,
                              **settings))
    portal = InProcessApp(app, app.test_client(), repo, {"anonymous": None})
    portal.tokens["admin"] = portal.api_key(portal.login("admin", ADMIN_PASSWORD))
    portal.tokens["viewer"] = portal.add_user("sweep-viewer", "viewer")
    portal.tokens["developer"] = portal.add_user("sweep-developer", "developer")
    try:
        yield portal
    finally:
        workspace = app.extensions["gantry"].workspace
        if workspace is not None and hasattr(workspace, "stop"):
            workspace.stop()
