"""A small client for ArgoCD's REST API (the gRPC gateway under `/api/v1`).

Authentication is a bearer token: either the configured API token, or one obtained from
`POST /api/v1/session` with a username and password — obtained lazily and again once when
ArgoCD answers 401 (session tokens expire). ArgoCD's error bodies
(`{"error", "code", "message"}`) become an `ArgoCDError` carrying ArgoCD's HTTP status and
message, so the runner can pass them on as clear JSON errors.

Application names go into the URL path, so this module is the one place that builds those
paths (`app_path`): a name must be what ArgoCD itself accepts — a Kubernetes DNS-1123
subdomain (lowercase letters, digits, `-` and `.`, at most 253 characters, starting and
ending with a letter or digit) — and is percent-encoded. `.`, `..`, slashes and encoded
slashes are refused with `InvalidName` before any request, so a name can never rewrite the
path toward another ArgoCD endpoint with the runner's token.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote

import httpx

from .config import Instance

DEFAULT_TIMEOUT = 15.0
MAX_APP_NAME_LENGTH = 253
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


class InvalidName(ValueError):
    """A name cannot be an ArgoCD application name; the message says where and why."""


def check_app_name(name: object, where: str = "application name") -> str:
    """`name` when ArgoCD could hold an application of that name, else `InvalidName`."""
    if not isinstance(name, str) or not name:
        raise InvalidName(f"{where}: required, a string")
    if len(name) > MAX_APP_NAME_LENGTH:
        raise InvalidName(f"{where}: at most {MAX_APP_NAME_LENGTH} characters "
                          f"(got {len(name)})")
    if not _DNS1123_SUBDOMAIN.match(name):
        raise InvalidName(f"{where}: {name[:80]!r} is not an ArgoCD application name "
                          "(lowercase letters, digits, '-' and '.', starting and ending with "
                          "a letter or digit; no '/', '.' or '..')")
    return name


def app_path(name: str, *tail: str) -> str:
    """`/api/v1/applications/<name>[/<tail>…]` for a checked, percent-encoded name."""
    return "/".join(("/api/v1/applications", quote(check_app_name(name), safe=""), *tail))


class ArgoCDError(Exception):
    """ArgoCD refused or could not be reached; `status` is the HTTP status to report."""

    def __init__(self, status: int, message: str, *, instance: str = "", code: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.instance = instance
        self.code = code


class ArgoCDClient:
    """One ArgoCD instance. Thread-safe: the session token is refreshed under a lock."""

    def __init__(self, instance: Instance, *, timeout: float = DEFAULT_TIMEOUT):
        self.instance = instance
        self._token = instance.token
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=instance.url, timeout=timeout,
                                  verify=not instance.insecure_skip_tls)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ArgoCDClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- API -----------------------------------------------------------------------------
    def list_applications(self) -> list[dict[str, Any]]:
        """Every Application visible to the token, limited to the configured project."""
        params = {"projects": self.instance.project} if self.instance.project else None
        body = self._call("GET", "/api/v1/applications", params=params)
        items = body.get("items") if isinstance(body, dict) else None
        return [item for item in items or [] if isinstance(item, dict)]

    def get_application(self, name: str, *, refresh: str | None = None) -> dict[str, Any]:
        """One Application; `refresh="normal"` (or "hard") asks ArgoCD to re-read Git."""
        params = {"refresh": refresh} if refresh else None
        return self._call("GET", app_path(name), params=params)

    def resource_tree(self, name: str) -> dict[str, Any]:
        return self._call("GET", app_path(name, "resource-tree"))

    def sync(self, name: str, *, prune: bool = False, hard: bool = False) -> dict[str, Any]:
        """Start a sync. A hard sync prunes and forces hooks/resources to be re-applied."""
        body: dict[str, Any] = {"prune": prune or hard, "dryRun": False,
                                "strategy": {"hook": {"force": hard}}}
        return self._call("POST", app_path(name, "sync"), json=body)

    def refresh(self, name: str) -> dict[str, Any]:
        return self.get_application(name, refresh="normal")

    def operation_state(self, name: str) -> dict[str, Any]:
        """The current or last operation of the application (empty when none ever ran)."""
        app = self.get_application(name)
        state = (app.get("status") or {}).get("operationState")
        return state if isinstance(state, dict) else {}

    # --- plumbing ------------------------------------------------------------------------
    def _login(self) -> str:
        if not (self.instance.username and self.instance.password):
            raise ArgoCDError(401, "ArgoCD refused the API token (401) and no username/password "
                              "is configured", instance=self.instance.name, code=16)
        response = self._send("POST", "/api/v1/session",
                              json={"username": self.instance.username,
                                    "password": self.instance.password}, token=None)
        if response.status_code != 200:
            raise self._error(response, prefix="login failed")
        token = (response.json() or {}).get("token")
        if not isinstance(token, str) or not token:
            raise ArgoCDError(502, "ArgoCD login answered without a token",
                              instance=self.instance.name)
        return token

    def _current_token(self, stale: str | None = None) -> str:
        with self._lock:
            if not self._token or self._token == stale:
                self._token = self._login()
            return self._token

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self._current_token()
        response = self._send(method, path, token=token, **kwargs)
        if response.status_code == 401 and self.instance.username and self.instance.password:
            token = self._current_token(stale=token)
            response = self._send(method, path, token=token, **kwargs)
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ArgoCDError(502, f"ArgoCD {self.instance.name} answered {path} with a body "
                              "that is not JSON", instance=self.instance.name) from exc

    def _send(self, method: str, path: str, *, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ArgoCDError(504, f"ArgoCD {self.instance.name} did not answer in time",
                              instance=self.instance.name) from exc
        except httpx.HTTPError as exc:
            raise ArgoCDError(502, f"cannot reach ArgoCD {self.instance.name} at "
                              f"{self.instance.url}: {exc}", instance=self.instance.name) from exc

    def _error(self, response: httpx.Response, prefix: str = "") -> ArgoCDError:
        message, code = "", None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("error") or "")
            code = body.get("code") if isinstance(body.get("code"), int) else None
        if not message:
            message = response.reason_phrase or f"HTTP {response.status_code}"
        text = f"ArgoCD {self.instance.name}: {prefix + ': ' if prefix else ''}{message}"
        return ArgoCDError(response.status_code, text, instance=self.instance.name, code=code)
