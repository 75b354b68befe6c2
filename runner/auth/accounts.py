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

from .. import events
from ..errors import StatusError
from ..store import apikeys as apikey_store
from ..store import sessions as session_store
from ..store import users as user_store
from ..store.db import DATABASE_ERRORS, Store, StoreError, now_iso
from . import passwords, roles, tokens

SESSION_LIFETIME = timedelta(hours=12)
CACHE_SECONDS = 5.0
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
KEY_NAME_MAX = 100


class AccountError(StatusError, ValueError):
    """Invalid input for an account operation; `status` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message, status=status)


@dataclass(frozen=True)
class Login:
    token: str
    user: user_store.UserRecord
    expires_at: str


@dataclass(frozen=True)
class NewApiKey:
    key: str
    record: apikey_store.ApiKeyRecord


@dataclass(frozen=True)
class Credential:
    """What a long-lived connection authenticated with, so it can be checked again later.

    `id` is the session's token hash or the API key's id (never the secret itself); `role`
    is the effective role; `expires_at` is set for sessions only.
    """

    kind: str
    id: str
    user_id: str
    username: str
    role: str
    expires_at: str | None = None

    @property
    def key(self) -> str:
        """The name the event bus knows this credential by (`session:…` or `apikey:…`)."""
        return f"{self.kind}:{self.id}"

    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= now_iso()


class _CredentialCache:
    """Resolved credentials for a few seconds, so a burst of requests reads the store once.

    Logout and key revocation evict their entry at once, in this process and, through the
    event bus's relayed revocations (`forget`), in the runner's other workers and
    replicas; the only delay is for a session that expires on its own: at most
    `CACHE_SECONDS`.
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

    def evict_where(self, store: Store | None, predicate: Any) -> None:
        """Evict the entries of `store` (None: of every store) whose value matches."""
        with self._lock:
            for key in [k for k, v in self._entries.items()
                        if (store is None or k[0] == str(store.path)) and predicate(v[1])]:
                del self._entries[key]

    def evict_digest(self, digest: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[1] == digest]:
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
    """Create `admin` on first start. Returns False when no admin exists and none can be made.

    Replicas sharing one database may start together: the user name is unique, so one of
    them creates `admin` and the others find it taken, which is the same success."""
    if user_store.count_with_role(store, "admin") > 0 or user_store.by_name(store, "admin"):
        return True
    if not password:
        return False
    try:
        create_user(store, "admin", password, "admin")
    except AccountError as exc:
        if exc.status != 409:
            raise
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


def forget(credential: str) -> None:
    """Drop a revoked credential (`session:<digest>` or `apikey:<id>`, as the event bus
    names it) from this process's cache, wherever it was revoked."""
    kind, _, ident = credential.partition(":")
    if kind == "session":
        _cache.evict_digest(ident)
    elif kind == "apikey":
        _cache.evict_where(None, lambda value: isinstance(value, tuple) and value[2] == ident)


def end_session(store: Store, token: str, bus: events.EventBus | None = None) -> bool:
    """Revoke a session; requests stop at once, and so do open WebSockets on `bus`.

    Sockets of another process (or when no bus is given) end at their next credential
    check, within seconds.
    """
    digest = tokens.token_hash(token)
    _cache.evict(store, digest)
    ended = session_store.revoke(store, digest)
    if bus is not None:
        bus.revoke(f"session:{digest}", "the session ended: log in again")
    return ended


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


def revoke_api_key(store: Store, key_id: str, bus: events.EventBus | None = None) -> bool:
    """Delete a key; requests stop at once, and so do open WebSockets on `bus` (elsewhere:
    at their next credential check)."""
    _cache.evict_where(store, lambda value: isinstance(value, tuple) and value[2] == key_id)
    deleted = apikey_store.delete(store, key_id)
    if bus is not None:
        bus.revoke(f"apikey:{key_id}", "the API key was revoked")
    return deleted


def _session_credential(store: Store, digest: str) -> Credential | None:
    found = session_store.holder(store, digest)
    if found is None:
        return None
    return Credential("session", digest, found["user_id"], found["username"], found["role"],
                      found["expires_at"])


def _key_credential(store: Store, key_id: str) -> Credential | None:
    found = apikey_store.holder(store, key_id)
    if found is None:
        return None
    return Credential("apikey", key_id, found["user_id"], found["username"],
                      roles.lower_of(found["role"], found["owner_role"]))


def credential_for(store: Store, token: str, *, api_key: bool) -> Credential | None:
    """The credential behind a session token or API key, read from the store (no cache)."""
    digest = tokens.token_hash(token)
    if not api_key:
        return _session_credential(store, digest)
    record = apikey_store.by_hash(store, digest)
    return _key_credential(store, record.id) if record is not None else None


def credential_ended(store: Store, credential: Credential) -> str | None:
    """Why `credential` may no longer be used, or None while it still holds.

    One store read: the session or key must still exist (not logged out, expired or
    revoked, by this process or another), its user must still exist, and the effective role
    must not have been lowered since the credential was checked.
    """
    try:
        if credential.kind == "session":
            current = _session_credential(store, credential.id)
            if current is None:
                return "the session ended (logout, expiry or removed user): log in again"
        else:
            current = _key_credential(store, credential.id)
            if current is None:
                return "the API key was revoked or its user removed"
    except DATABASE_ERRORS as exc:
        raise StoreError(f"the credential cannot be checked: {exc}") from exc
    if not roles.at_least(current.role, credential.role):
        return f"the role was lowered from {credential.role} to {current.role}: connect again"
    return None


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


def _end_access(store: Store, user: user_store.UserRecord, key_ceiling: str | None,
                bus: events.EventBus | None) -> None:
    """End every session of `user` and revoke their keys above `key_ceiling` (None: all
    keys); requests stop at once, and so do open WebSockets on `bus`."""
    for digest in session_store.hashes_of(store, user.id):
        _cache.evict(store, digest)
        session_store.revoke(store, digest)
        if bus is not None:
            bus.revoke(f"session:{digest}", "the account changed: log in again")
    for key in apikey_store.list_for(store, user.id):
        if key_ceiling is None or not roles.at_least(key_ceiling, key.role):
            revoke_api_key(store, key.id, bus)
    _cache.evict_where(store, lambda value: (
        getattr(value, "id", None) == user.id
        or (isinstance(value, tuple) and getattr(value[0], "id", None) == user.id)))


def _keep_an_admin(store: Store, user: user_store.UserRecord) -> None:
    if user.role == "admin" and not user_store.is_disabled(user) and sum(
            1 for other in user_store.list_all(store)
            if other.role == "admin" and not user_store.is_disabled(other)) <= 1:
        raise AccountError(f"{user.username} is the last enabled admin: make another admin "
                           "first", status=409)


def update_user(store: Store, username: str, *, role: object = None, disabled: object = None,
                bus: events.EventBus | None = None) -> user_store.UserRecord:
    """Change a user's role and/or disable or enable the account.

    A role change ends the user's sessions and revokes their keys above the new role; a
    disabled account loses every session and key. Open WebSockets on `bus` close at once.
    The last enabled admin can be neither demoted nor disabled (409).
    """
    record = user_store.by_name(store, username)
    if record is None:
        raise AccountError(f"user {username!r} not found", status=404)
    if role is None and disabled is None:
        raise AccountError("give role and/or disabled")
    new_role = record.role if role is None else check_role(role)
    if disabled is not None and not isinstance(disabled, bool):
        raise AccountError("disabled must be true or false")
    disabling = disabled is True and not user_store.is_disabled(record)
    if (new_role != "admin" or disabling) and record.role == "admin":
        _keep_an_admin(store, record)
    if new_role != record.role:
        user_store.set_role(store, record.id, new_role)
        _end_access(store, record, new_role, bus)
    if disabled is not None:
        user_store.set_disabled(store, record.id, disabled)
        if disabling:
            _end_access(store, record, None, bus)
    updated = user_store.by_id(store, record.id)
    assert updated is not None
    return updated


def delete_user(store: Store, username: str,
                bus: events.EventBus | None = None) -> user_store.UserRecord:
    """Remove a user with their sessions and keys (WebSockets close at once); the last
    enabled admin cannot be removed (409)."""
    record = user_store.by_name(store, username)
    if record is None:
        raise AccountError(f"user {username!r} not found", status=404)
    _keep_an_admin(store, record)
    _end_access(store, record, None, bus)
    user_store.delete(store, record.id)
    return record
