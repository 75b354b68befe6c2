"""Encryption of secrets kept in the store (plugin tokens, keys), with Fernet.

The Fernet key is derived from `GANTRY_SECRET_KEY` with HKDF, so any string of at least
16 characters works and the raw setting is never used as a key directly.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretError(ValueError):
    """A stored secret cannot be decrypted (wrong GANTRY_SECRET_KEY or damaged value)."""


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """32 bytes derived from the secret key for one purpose (encryption, signing, …)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gantry", info=purpose).derive(
        secret_key.encode("utf-8"))


class SecretBox:
    """Encrypts and decrypts strings with a key derived from the runner's secret key."""

    def __init__(self, secret_key: str) -> None:
        key = derive_key(secret_key, b"gantry store encryption v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise SecretError(
                "a stored secret cannot be decrypted: GANTRY_SECRET_KEY differs from the one "
                "that encrypted it"
            ) from exc
