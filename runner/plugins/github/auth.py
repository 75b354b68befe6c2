"""The Authorization header of each GitHub request: a personal access token, or a GitHub App.

For a GitHub App, an app JWT (RS256, issued 60 s in the past to allow for clock drift,
valid 9 minutes) is exchanged at `POST /app/installations/{id}/access_tokens` for an
installation token. Installation tokens live one hour; they are cached per process and
renewed when less than `RENEW_BEFORE` seconds remain, so runs followed for a long time never
send an expired token. Every token is handed to `on_secret` as soon as it is known, so the
caller can keep it out of outputs, errors and logs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import httpx
import jwt

from .errors import GitHubError, GitHubUnavailable, error_from
from .settings import GitHubConfigError, GitHubSettings

JWT_BACKDATE = 60
JWT_LIFETIME = 540
RENEW_BEFORE = 300.0
"""Renew an installation token when it has less than five minutes left."""
API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "gantry-runner",
}


class Auth(Protocol):
    """Supplies the Authorization header; `invalidate()` after GitHub refused the token."""

    def header(self) -> str: ...

    def invalidate(self) -> bool:
        """Forget a cached token; True when a fresh one can be obtained."""
        ...


class PatAuth:
    """A personal access token (classic or fine-grained) sent as a bearer token."""

    def __init__(self, token: str):
        self._token = token

    def header(self) -> str:
        return f"Bearer {self._token}"

    def invalidate(self) -> bool:
        return False


class _TokenCache:
    """Installation tokens by app, installation and key, shared by every run of the process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[tuple[str, ...], tuple[str, float]] = {}


_CACHE = _TokenCache()


class AppAuth:
    """GitHub App authentication with a cached, renewed installation token."""

    def __init__(self, settings: GitHubSettings, http: httpx.Client, *,
                 on_secret: Callable[[str], None] = lambda _s: None, timeout: float = 10.0,
                 cache: _TokenCache = _CACHE):
        self.settings = settings
        self.http = http
        self.on_secret = on_secret
        self.timeout = timeout
        self.cache = cache
        key_digest = hashlib.sha256(settings.private_key.encode()).hexdigest()
        self._key = (settings.api_url, settings.app_id, settings.installation_id, key_digest)

    def header(self) -> str:
        return f"Bearer {self.installation_token()}"

    def invalidate(self) -> bool:
        with self.cache.lock:
            self.cache.tokens.pop(self._key, None)
        return True

    def app_jwt(self, now: float | None = None) -> str:
        """The app's own token, signed with its private key."""
        issued = int(time.time() if now is None else now)
        payload = {"iat": issued - JWT_BACKDATE, "exp": issued + JWT_LIFETIME,
                   "iss": self.settings.app_id}
        try:
            token = jwt.encode(payload, self.settings.private_key, algorithm="RS256")
        except Exception as exc:  # the key's text must never reach a message
            raise GitHubConfigError(
                "privateKey is not a usable GitHub App private key (PEM, RSA)") from exc
        self.on_secret(token)
        return token

    def installation_token(self) -> str:
        with self.cache.lock:
            cached = self.cache.tokens.get(self._key)
            if cached and cached[1] - time.time() > RENEW_BEFORE:
                self.on_secret(cached[0])
                return cached[0]
        token, expires = self._create_token()
        with self.cache.lock:
            self.cache.tokens[self._key] = (token, expires)
        return token

    def _create_token(self) -> tuple[str, float]:
        url = (f"{self.settings.api_url}/app/installations/"
               f"{self.settings.installation_id}/access_tokens")
        headers = {**API_HEADERS, "Authorization": f"Bearer {self.app_jwt()}"}
        try:
            response = self.http.post(url, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise GitHubUnavailable("cannot reach GitHub to obtain an installation token "
                                    f"({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise GitHubUnavailable("GitHub could not issue an installation token "
                                    f"(HTTP {response.status_code})", response.status_code)
        if response.status_code != 201:
            error = error_from(response)
            error.message = f"GitHub App authentication failed: {error.message}"
            raise error
        try:
            body = response.json()
            token = str(body["token"])
            expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError) as exc:
            raise GitHubError(response.status_code, "GitHub answered the installation token "
                              "request without a token and expiry") from exc
        self.on_secret(token)
        return token, expires.timestamp()


def auth_for(settings: GitHubSettings, http: httpx.Client,
             on_secret: Callable[[str], None] = lambda _s: None) -> Auth:
    """The authentication the settings ask for."""
    for secret in settings.secrets:
        on_secret(secret)
    if settings.auth_mode == "app":
        return AppAuth(settings, http, on_secret=on_secret)
    return PatAuth(settings.token)
