"""Session tokens and API keys: random secrets of which only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "gantry_"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def token_hash(token: str) -> str:
    """SHA-256 is enough here: the tokens are 256-bit random, not guessable passwords."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters of a key, kept so people can tell their keys apart."""
    return key[: len(API_KEY_PREFIX) + 6]
