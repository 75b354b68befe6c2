"""Who is calling: credentials from the request, roles, cross-site protection, client IP.

Credentials come from `Authorization: Bearer <session token or API key>` or from the
`gantry_session` cookie. Credentials in the query string are refused outright so they
never end up in logs or browser history. Cookie-authenticated unsafe requests must come
from the runner's own origin (see `check_same_origin`).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, request

from ..api.errors import ApiError
from . import accounts, roles, tokens

if TYPE_CHECKING:
    from ..api.common import GantryState

SESSION_COOKIE = "gantry_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A query parameter is taken for a credential when one of its words (split at
# non-letters and at camelCase humps, compared case-insensitively) is in CREDENTIAL_WORDS,
# or when its letters and digits run together contain one of CREDENTIAL_PARTS.
CREDENTIAL_WORDS = frozenset({
    "token", "tokens", "jwt", "key", "apikey", "session", "sessionid", "sid", "auth",
    "authorization", "password", "passwd", "pwd", "pass", "secret", "bearer", "credential",
    "credentials", "cookie", "signature", "sig", "otp",
})
CREDENTIAL_PARTS = ("token", "password", "passwd", "secret", "apikey", "accesskey", "jwt",
                    "bearer", "credential", "session", "authorization")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SHOWN_NAME = 40

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    """The authenticated caller. `role` is the effective role (an API key may lower it)."""

    id: str
    username: str
    role: str
    email: str | None = None
    teams: tuple[str, ...] = field(default_factory=tuple)
    via: str = "session"
    api_key_id: str | None = None

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "role": self.role,
                "email": self.email, "teams": list(self.teams)}


def _state() -> GantryState:
    return current_app.extensions["gantry"]


def _teams_of(username: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(_state().workspace.teams_of(username)))
    except Exception:  # the index may be rebuilding; membership is then unknown, not an error
        return ()


def looks_like_credential(name: str) -> bool:
    """Whether a query parameter's name suggests it carries a secret (any spelling)."""
    words = {word.lower() for word in _WORDS.findall(name)}
    squashed = "".join(ch for ch in name.lower() if ch.isalnum())
    return bool(words & CREDENTIAL_WORDS) or any(part in squashed for part in CREDENTIAL_PARTS)


def refuse_query_credentials() -> None:
    """400 for any request whose query string names a credential, on every route.

    URLs end up in access logs, proxies and browser history, so a secret there is
    refused whether or not it is valid, and its value is never echoed.
    """
    if not request.query_string:
        return
    for name in request.args:
        if looks_like_credential(name):
            shown = name if len(name) <= _SHOWN_NAME else name[:_SHOWN_NAME] + "..."
            raise ApiError(400, f"credentials in the query string ({shown!r}) are refused: "
                                "send them in the Authorization: Bearer header")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "Authorization header must be 'Bearer <token>'")
    return value.strip()


def _resolve(token: str, via: str) -> User | None:
    store = _state().store
    if via == "bearer" and tokens.is_api_key(token):
        found = accounts.user_for_api_key(store, token)
        if found is None:
            return None
        record, role, key_id = found
        return User(record.id, record.username, role, record.email, _teams_of(record.username),
                    "apikey", key_id)
    record = accounts.user_for_session(store, token)
    if record is None:
        return None
    return User(record.id, record.username, record.role, record.email,
                _teams_of(record.username), via)


def authenticate(*, csrf: bool = True) -> User:
    """The caller, or ApiError 401 (no or bad credentials) / 403 (cross-site cookie request)."""
    cached = g.get("gantry_user")
    if cached is not None:
        return cached
    refuse_query_credentials()
    token = bearer_token()
    if token is not None:
        user = _resolve(token, "bearer")
        if user is None:
            raise ApiError(401, "invalid or expired token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise ApiError(401, "authentication required: send Authorization: Bearer <token>")
        user = _resolve(cookie, "cookie")
        if user is None:
            raise ApiError(401, "session expired or revoked: log in again")
        if csrf and request.method not in SAFE_METHODS:
            check_same_origin()
    g.gantry_user = user
    return user


def current_user() -> User:
    """The authenticated caller of this request (authenticating it if not done yet)."""
    return authenticate()


def require_role(role: str) -> Callable[[F], F]:
    """Decorate a view: 401 without valid credentials, 403 when the role is below `role`."""
    if role not in roles.ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = authenticate()
            if not roles.at_least(user.role, role):
                raise ApiError(403, f"this needs the {role} role; you have {user.role}")
            return view(*args, **kwargs)

        wrapper.gantry_role = role  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _own_origin() -> tuple[str, str]:
    return request.scheme, request.host.lower()


def _origin_of(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def check_same_origin() -> None:
    """Cross-site protection for cookie-authenticated unsafe requests.

    The `Origin` header (or `Referer` when no Origin is sent) must name this runner's own
    scheme and host, or an origin listed in `GANTRY_CORS_ORIGINS`. When a client sends
    neither, the request must carry `X-Requested-With`, a header a cross-site form cannot
    set without a CORS preflight, which the runner grants to listed origins only.
    """
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source and source != "null":
        origin = _origin_of(source)
        if origin != _own_origin() and not _listed(origin):
            raise ApiError(403, "cross-site request refused: Origin does not match this runner")
        return
    if source == "null" or not request.headers.get("X-Requested-With"):
        raise ApiError(403, "cross-site request refused: cookie-authenticated writes need a "
                            "same-origin Origin or Referer header, or X-Requested-With")


def _listed(origin: tuple[str, str] | None) -> bool:
    """Whether an origin is one of `GANTRY_CORS_ORIGINS` (trusted like the runner's own)."""
    return origin is not None and f"{origin[0]}://{origin[1]}" in _state().settings.cors_origins


def client_ip() -> str | None:
    """The caller's address; X-Forwarded-For is believed only from trusted proxies."""
    remote = request.remote_addr
    trusted = _state().settings.trusted_proxies
    if not remote or not trusted or not _is_trusted(remote, trusted):
        return remote
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [part for part in forwarded if part]
    for hop in reversed(forwarded):
        if not _is_trusted(hop, trusted):
            return hop if _is_ip(hop) else remote
    return forwarded[0] if forwarded and _is_ip(forwarded[0]) else remote


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
