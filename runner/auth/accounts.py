"""User, session and API-key operations on the store, independent of HTTP.

Shared by the REST API and the `gantry users` / `gantry apikeys` commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from ..store import apikeys as apikey_store
from ..store import sessions as session_store
from ..store import users as user_store
from ..store.db import Store
from . import passwords, roles, tokens

SESSION_LIFETIME = timedelta(hours=12)
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
    return session_store.revoke(store, tokens.token_hash(token))


def user_for_session(store: Store, token: str) -> user_store.UserRecord | None:
    user_id = session_store.user_id_for(store, tokens.token_hash(token))
    return user_store.by_id(store, user_id) if user_id else None


def user_for_api_key(store: Store, key: str) -> tuple[user_store.UserRecord, str, str] | None:
    """(owner, effective role, key id) — the key's role, capped by the owner's current role."""
    record = apikey_store.by_hash(store, tokens.token_hash(key))
    if record is None:
        return None
    owner = user_store.by_id(store, record.user_id)
    if owner is None:
        return None
    apikey_store.touch(store, record.id)
    return owner, roles.lower_of(record.role, owner.role), record.id


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
