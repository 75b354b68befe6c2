"""Hide secrets before anything is logged, audited or returned.

Two rules: the value of any key that looks like a secret is replaced, and every
occurrence of a known secret string (a resolved `${VAR}`, a stored token) is replaced
wherever it appears inside other strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "__GANTRY_SECRET_REDACTED__"

_SECRET_KEY = re.compile(
    r"(token|password|passwd|secret|private[-_]?key|auth[-_]?token|personal[-_]?access[-_]?token"
    r"|api[-_]?key|authorization|credential|cookie)",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 4


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (`token`, `privateKey`, `apiKey`, …)."""
    return bool(_SECRET_KEY.search(key))


def redact(obj: Any, secret_values: Iterable[str] = ()) -> Any:
    """A copy of `obj` with secret-looking keys and the given secret strings replaced."""
    secrets = sorted(
        {s for s in secret_values if isinstance(s, str) and len(s) >= _MIN_SECRET_LENGTH},
        key=len, reverse=True,
    )
    return _redact(obj, secrets)


def _redact(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, dict):
        return {
            key: (REDACTED if isinstance(key, str) and is_secret_key(key) and value not in
                  (None, "") else _redact(value, secrets))
            for key, value in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [_redact(item, secrets) for item in obj]
    if isinstance(obj, str):
        for secret in secrets:
            if secret in obj:
                obj = obj.replace(secret, REDACTED)
        return obj
    return obj
