"""JSON Schema errors turned into sentences a person understands, at the right document path.

jsonschema's own messages speak of instances and schemas (`None is not of type 'object'`);
these say what is wrong, what was expected and where (`spec: expected a mapping, got null`).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from .finding import dotted, show

DERIVED_FIELDS = {"createdAt", "updatedAt", "createdBy"}
"""Metadata derived from Git history; never written in YAML."""

_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "true or false",
               "null": "null"}
_REQUIRED = re.compile(r"^'(.*)' is a required property$")

Located = tuple[tuple, bool, str]
"""(document path, report at the key?, message)"""


def _kind_of_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {show(value)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    return "a mapping" if isinstance(value, dict) else "a list"


def _prefix(path: tuple) -> str:
    return f"{dotted(path)}: " if path else ""


def _suggest(value: Any, options: list[Any]) -> str:
    if not isinstance(value, str):
        return ""
    texts = [option for option in options if isinstance(option, str)]
    close = difflib.get_close_matches(value, texts, n=1, cutoff=0.6)
    if not close:
        close = [option for option in texts if option.lower() == value.lower()]
    return f" (did you mean '{close[0]}'?)" if close else ""


def _listing(options: list[Any]) -> str:
    return ", ".join(option if isinstance(option, str) else show(option) for option in options)


def describe(error: ValidationError) -> list[Located]:
    """One or more located messages for a JSON Schema error."""
    path = tuple(error.absolute_path)
    where = _prefix(path)
    keyword = error.validator
    expected = error.validator_value
    value = error.instance
    at_key = bool(path) and isinstance(path[-1], str)

    if keyword == "required":
        match = _REQUIRED.match(error.message)
        missing = match.group(1) if match else error.message
        return [(path, at_key, f"{where}missing required key '{missing}'")]
    if keyword == "additionalProperties" and isinstance(value, dict):
        return _unexpected_keys(error, path)
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        names = " or ".join(_TYPE_NAMES.get(name, name) for name in wanted)
        message = f"{where}expected {names}, got {_kind_of_value(value)}"
        if wanted == ["string"] and isinstance(value, int | float | bool):
            rendered = show(value) if isinstance(value, bool) else str(value)
            message += f"; quote it (\"{rendered}\") to make it a string"
        return [(path, False, message)]
    if keyword == "enum":
        return [(path, False, f"{where}{show(value)} is not one of {_listing(expected)}"
                 f"{_suggest(value, expected)}")]
    if keyword == "const":
        return [(path, False, f"{where}expected {show(expected)}, got {show(value)}")]
    if keyword == "pattern":
        described = error.schema.get("description") if isinstance(error.schema, dict) else None
        if described:
            return [(path, False, f"{where}{show(value)} is not valid: expected "
                     f"{described[0].lower()}{described[1:].rstrip('.')}")]
        return [(path, False, f"{where}{show(value)} does not match the pattern {expected}")]
    if keyword in ("anyOf", "oneOf"):
        return _alternatives(error, path)
    if keyword is None or keyword is False:
        return [(path, at_key, f"{where}not allowed here")]
    simple = _simple(keyword, expected, value)
    if simple:
        return [(path, False, f"{where}{simple}")]
    return [(path, False, f"{where}{error.message}")]


def _simple(keyword: str, expected: Any, value: Any) -> str | None:
    plural = "" if expected == 1 else "s"
    messages = {
        "minItems": f"needs at least {expected} item{plural}",
        "maxItems": f"has more than {expected} item{plural}",
        "minLength": "must not be empty" if expected == 1
        else f"must be at least {expected} characters long",
        "maxLength": f"is longer than {expected} characters",
        "minimum": f"{show(value)} is below the minimum of {expected}",
        "maximum": f"{show(value)} is above the maximum of {expected}",
        "exclusiveMinimum": f"{show(value)} must be greater than {expected}",
        "exclusiveMaximum": f"{show(value)} must be less than {expected}",
        "uniqueItems": "has duplicate items",
        "minProperties": f"needs at least {expected} key{plural}",
        "multipleOf": f"{show(value)} is not a multiple of {expected}",
    }
    return messages.get(keyword)


def _unexpected_keys(error: ValidationError, path: tuple) -> list[Located]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    located = []
    for key in error.instance:
        if key in allowed or any(p.search(key) for p in patterns):
            continue
        where = _prefix(path)
        if path == ("metadata",) and key in DERIVED_FIELDS:
            message = (f"{where}'{key}' is derived from Git history and cannot be written in "
                       "YAML; remove it")
        else:
            message = (f"{where}unexpected key '{key}'{_suggest(key, allowed)} "
                       f"(allowed: {', '.join(allowed) or 'none'})")
        located.append((path + (key,), True, message))
    return located


def _alternatives(error: ValidationError, path: tuple) -> list[Located]:
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    if branches and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
        options = [" and ".join(f"'{key}'" for key in b["required"]) for b in branches]
        at_key = bool(path) and isinstance(path[-1], str)
        return [(path, at_key, f"{_prefix(path)}needs {' or '.join(options)}")]
    best = best_match(error.context) if error.context else None
    return describe(best) if best is not None else [(path, False, error.message)]
