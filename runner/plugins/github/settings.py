"""The github plugin's settings, checked before a request is made.

The plugin config (`authMode`, `personalAccessToken`, `appId`, `installationId`,
`privateKey`, `apiUrl`) comes decrypted from the runner's store. `GitHubSettings.from_config`
refuses an unusable one with a message naming the missing or wrong setting, never its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.github.com"
AUTH_MODES = ("pat", "app")


class GitHubConfigError(Exception):
    """The github plugin settings cannot be used; the message says which setting and why."""


@dataclass(frozen=True)
class GitHubSettings:
    """How to reach GitHub (or GitHub Enterprise Server) and authenticate."""

    api_url: str
    auth_mode: str = "pat"
    token: str = ""
    app_id: str = ""
    installation_id: str = ""
    private_key: str = ""

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> GitHubSettings:
        config = config or {}
        api_url = normalise_api_url(config.get("apiUrl") or DEFAULT_API_URL)
        mode = config.get("authMode") or "pat"
        if mode not in AUTH_MODES:
            raise GitHubConfigError(f"authMode must be 'pat' or 'app', not {mode!r}")
        if mode == "pat":
            token = config.get("personalAccessToken")
            if not isinstance(token, str) or not token.strip():
                raise GitHubConfigError(
                    "personalAccessToken is not set (authMode 'pat'); set it with "
                    "PUT /api/v1/plugins/github/config")
            return cls(api_url=api_url, auth_mode="pat", token=token.strip())
        missing = [key for key in ("appId", "installationId", "privateKey")
                   if not str(config.get(key) or "").strip()]
        if missing:
            raise GitHubConfigError(
                f"{', '.join(missing)} not set (authMode 'app'); set them with "
                "PUT /api/v1/plugins/github/config")
        return cls(api_url=api_url, auth_mode="app", app_id=str(config["appId"]).strip(),
                   installation_id=str(config["installationId"]).strip(),
                   private_key=str(config["privateKey"]).strip())

    @property
    def secrets(self) -> list[str]:
        """The credentials in clear, so callers can keep them out of every output."""
        return [value for value in (self.token, self.private_key) if value]

    @property
    def web_host(self) -> str:
        """The host serving repositories for this API: github.com for api.github.com,
        the GHE host itself for `https://ghe.example/api/v3`."""
        host = (urlsplit(self.api_url).hostname or "").lower()
        return "github.com" if host == "api.github.com" else host


def normalise_api_url(value: Any) -> str:
    """The API base URL without a trailing slash; refused unless absolute http(s)."""
    if not isinstance(value, str):
        raise GitHubConfigError("apiUrl must be a URL such as https://ghe.example/api/v3")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GitHubConfigError("apiUrl must be an absolute http or https URL, such as "
                                "https://api.github.com or https://ghe.example/api/v3")
    return url
