"""Query-string numbers shared by the blueprints, refused with a 400 that names them.

Every endpoint that takes a number from the query string reads it with `int_arg`, so
the rule is the same everywhere: digits only, never negative, at most 2**31-1 (anything
the store and the index can take); a page size above the endpoint's maximum is clamped
to that maximum rather than refused.
"""

from __future__ import annotations

import re

from flask import request

from .errors import ApiError

INT32_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")
_SHOWN = 24


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "...")


def int_arg(name: str, default: int, low: int, high: int, *, clamp: bool = False) -> int:
    """An integer query parameter within [low, high]; `default` when absent or empty.

    400 naming the parameter for anything but plain digits (signs, spaces, decimals,
    non-ASCII digits), for a negative value, for a value beyond 2**31-1 and for a value
    below `low`. Above `high`: clamped to `high` when `clamp` (page sizes), else 400.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.startswith("-") and _DIGITS.fullmatch(raw[1:]):
        raise ApiError(400, f"{name} must not be negative, got {_shown(raw)}")
    if not _DIGITS.fullmatch(raw):
        raise ApiError(400, f"{name} must be a whole number written with the digits 0-9, "
                            f"got {_shown(raw)}")
    if len(raw.lstrip("0")) > len(str(INT32_MAX)) or int(raw) > INT32_MAX:
        raise ApiError(400, f"{name} must be at most {INT32_MAX}, got {_shown(raw)}")
    value = int(raw)
    if value < low:
        raise ApiError(400, f"{name} must be at least {low}, got {value}")
    if value > high:
        if clamp:
            return high
        raise ApiError(400, f"{name} must be at most {high}, got {value}")
    return value


def page_arg(name: str, default: int, maximum: int) -> int:
    """A page size (at least 1); a value above `maximum` is clamped to it."""
    return int_arg(name, default, 1, maximum, clamp=True)


def offset_arg(name: str = "offset") -> int:
    """A paging offset: 0 when absent, at most 2**31-1."""
    return int_arg(name, 0, 0, INT32_MAX)
