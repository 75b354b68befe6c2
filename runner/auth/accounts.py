"""User, session and API-key operations on the store, independent of HTTP.

Shared by the REST API and the `gantry users` / `gantry apikeys` commands.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..store import apikeys as apikey_store
from ..store import sessions as session_store
from ..store import users as user_store
from ..store.db import Store
from . import passwords, roles, tokens

SESSION_LIFETIME = timedelta(hours=12)
CACHE_SECONDS = 5.0
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
KEY_NAME_MAX = 100


class AccountError(ValueError):
    """Invalid input for an account operation; `status` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Login:
    token: str
    user: user_store.UserRecord
    expires_at: str


@dataclass(frozen=True)
class NewApiKey:
    key: str
    record: apikey_store.ApiKeyRecord


class _CredentialCache:
    """Resolved credentials for a few seconds, so a burst of requests reads the store once.

    Logout and key revocation evict their entry at once (the runner is one process), so
    the only delay is for a session that expires on its own: at most `CACHE_SECONDS`.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, store: Store, digest: str) -> Any:
        with self._lock:
            entry = self._entries.get((str(store.path), digest))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, store: Store, digest: str, value: Any) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            self._entries[(str(store.path), digest)] = (time.monotonic() + CACHE_SECONDS, value)

    def evict(self, store: Store, digest: str) -> None:
        with self._lock:
            self._entries.pop((str(store.path), digest), None)

    def evict_where(self, store: Store, predicate: Any) -> None:
        with self._lock:
            for key in [k for k, v in self._entries.items()
                        if k[0] == str(store.path) and predicate(v[1])]:
                del self._entries[key]


_cache = _CredentialCache()


def check_username(username: object) -> str:
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise AccountError(
            "username must be 1-64 characters: letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit")
    return username


def check_role(role: object) -> str:
    if not roles.is_role(role):
        raise AccountError(f"role must be one of {', '.join(roles.ROLES)}, got {role!r}")
    return role  # type: ignore[return-value]


def create_user(store: Store, username: object, password: object, role: object,
                email: object = None) -> user_store.UserRecord:
    """Validate and create a user (409 when the name is taken)."""
    name = check_username(username)
    checked_role = check_role(role)
    if email is not None and (not isinstance(email, str) or "@" not in email or len(email) > 254):
        raise AccountError("email must be an e-mail address")
    if not isinstance(password, str):
        raise AccountError("password must be a string")
    if len(password) > 1024:
        raise AccountError("password must have at most 1024 characters")
    try:
        passwords.check_policy(password)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc)) from None
    try:
        return user_store.create(store, username=name, role=checked_role, email=email,
                                 password_hash=passwords.hash_password(password))
    except user_store.UserExists as exc:
        raise AccountError(str(exc), status=409) from None


def ensure_admin(store: Store, password: str | None) -> bool:
    """Create `admin` on first start. Returns False when no admin exists and none can be made."""
    if user_store.count_with_role(store, "admin") > 0 or user_store.by_name(store, "admin"):
        return True
    if not password:
        return False
    create_user(store, "admin", password, "admin")
    return True


def authenticate_password(store: Store, username: str,
                          password: str) -> user_store.UserRecord | None:
    """The user when the password matches, else None (timing does not reveal which part failed)."""
    record = user_store.by_name(store, username)
    if record is None:
        passwords.burn_time(password)
        return None
    if not passwords.verify_password(password, record.password_hash):
        return None
    return record


def start_session(store: Store, user: user_store.UserRecord) -> Login:
    token = tokens.new_session_token()
    expires = session_store.create(store, token_hash=tokens.token_hash(token), user_id=user.id,
                                   lifetime=SESSION_LIFETIME)
    return Login(token, user, expires)


def end_session(store: Store, token: str) -> bool:
    digest = tokens.token_hash(token)
    _cache.evict(store, digest)
    return session_store.revoke(store, digest)


def user_for_session(store: Store, token: str) -> user_store.UserRecord | None:
    digest = tokens.token_hash(token)
    cached = _cache.get(store, digest)
    if cached is not None:
        return cached
    user_id = session_store.user_id_for(store, digest)
    record = user_store.by_id(store, user_id) if user_id else None
    if record is not None:
        _cache.put(store, digest, record)
    return record


def user_for_api_key(store: Store, key: str) -> tuple[user_store.UserRecord, str, str] | None:
    """(owner, effective role, key id) — the key's role, capped by the owner's current role."""
    digest = tokens.token_hash(key)
    cached = _cache.get(store, digest)
    if cached is not None:
        return cached
    record = apikey_store.by_hash(store, digest)
    if record is None:
        return None
    owner = user_store.by_id(store, record.user_id)
    if owner is None:
        return None
    apikey_store.touch(store, record.id)
    found = (owner, roles.lower_of(record.role, owner.role), record.id)
    _cache.put(store, digest, found)
    return found


def revoke_api_key(store: Store, key_id: str) -> bool:
    """Delete a key; it stops working at once."""
    _cache.evict_where(store, lambda value: isinstance(value, tuple) and value[2] == key_id)
    return apikey_store.delete(store, key_id)


def create_api_key(store: Store, owner: user_store.UserRecord, name: object,
                   role: object = None, creator_role: str | None = None) -> NewApiKey:
    """Create a key for `owner`; its role defaults to and may never exceed the creator's."""
    ceiling = creator_role or owner.role
    if not isinstance(name, str) or not name.strip() or len(name) > KEY_NAME_MAX:
        raise AccountError(f"name must be a non-empty string of at most {KEY_NAME_MAX} characters")
    key_role = ceiling if role is None else check_role(role)
    if not roles.at_least(ceiling, key_role):
        raise AccountError(
            f"a key cannot have role {key_role!r}: it would exceed its creator's role {ceiling!r}",
            status=403)
    key = tokens.new_api_key()
    record = apikey_store.create(store, user_id=owner.id, name=name.strip(), role=key_role,
                                 key_hash=tokens.token_hash(key),
                                 prefix=tokens.display_prefix(key))
    return NewApiKey(key, record)
