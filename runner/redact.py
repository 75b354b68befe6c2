"""Hide secrets before anything is logged, audited, stored in plain text or returned.

The one redaction of the runner. Three rules:
- the value of any key that looks like a secret is replaced (`token`, `password`, `apiKey`, …),
  and so is the value of any key named in `secret_keys` (an action's `secret: true` inputs);
- every occurrence of a known secret string (a resolved `${VAR}`, a stored token, the value of
  a secret input) is replaced wherever it appears inside other strings, also in the forms a
  receiver may echo it back in: JSON-escaped (once or twice, for JSON inside a JSON string)
  and percent-encoded;
- a long string that ends with the beginning of a secret (a response excerpt cut in the middle
  of one) loses that tail too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "__GANTRY_SECRET_REDACTED__"

_SECRET_KEY = re.compile(
    r"(token|password|passwd|secret|private[-_]?key|auth[-_]?token|personal[-_]?access[-_]?token"
    r"|api[-_]?key|authorization|credential|cookie)",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 4
"""Shorter values are not searched for inside text: they would match everywhere."""
_CUT_LENGTH = 1024
"""Strings at least this long may be excerpts cut short (see `executors.http.RESPONSE_EXCERPT`),
so their tail is checked for the beginning of a secret."""


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (`token`, `privateKey`, `apiKey`, …)."""
    return bool(_SECRET_KEY.search(key))


def secret_inputs(inputs: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> list[str]:
    """The values of the secret inputs of a run, as text, for `redact(..., secret_values=)`.

    An input is secret when its name is in `secret_keys` (declared `secret: true`) or looks
    like a secret. Numbers count by their text; booleans and empty values are not secrets.
    """
    declared = set(secret_keys)
    values: list[str] = []
    for name, value in inputs.items():
        if isinstance(name, str) and (name in declared or is_secret_key(name)):
            values.extend(_texts(value))
    return values


def redact(obj: Any, secret_values: Iterable[str] = (),
           secret_keys: Iterable[str] = ()) -> Any:
    """A copy of `obj` with secret-looking keys, the keys in `secret_keys`, and every form of
    the given secret strings replaced by `REDACTED`."""
    forms: set[str] = set()
    for value in secret_values:
        if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH:
            forms.update(_forms(value))
    secrets = sorted((form for form in forms if len(form) >= _MIN_SECRET_LENGTH),
                     key=len, reverse=True)
    return _redact(obj, secrets, frozenset(secret_keys))


def _forms(secret: str) -> set[str]:
    """A secret as it may come back from a receiver: raw, JSON-escaped, percent-encoded."""
    once = json.dumps(secret)[1:-1]
    once_unicode = json.dumps(secret, ensure_ascii=False)[1:-1]
    return {
        secret,
        once,
        once_unicode,
        json.dumps(once)[1:-1],
        json.dumps(once_unicode, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }


def _texts(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    return []


def _redact(obj: Any, secrets: list[str], keys: frozenset[str]) -> Any:
    if isinstance(obj, dict):
        return {
            key: (REDACTED if isinstance(key, str) and (key in keys or is_secret_key(key))
                  and obj_value not in (None, "") else _redact(obj_value, secrets, keys))
            for key, obj_value in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [_redact(item, secrets, keys) for item in obj]
    if isinstance(obj, str):
        return _redact_text(obj, secrets)
    return obj


def _redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if len(text) < _CUT_LENGTH:
        return text
    for secret in secrets:
        for length in range(len(secret) - 1, _MIN_SECRET_LENGTH - 1, -1):
            if text.endswith(secret[:length]):
                return text[:-length] + REDACTED
    return text
