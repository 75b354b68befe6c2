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
    upper = INT32_MAX if clamp else high
    out_of_range = ApiError(400, f"{name} must be a whole number between {low} and {upper}, "
                                 f"got {_shown(raw)}")
    if raw.startswith("-") and _DIGITS.fullmatch(raw[1:]):
        raise out_of_range
    if not _DIGITS.fullmatch(raw):
        raise ApiError(400, f"{name} must be a whole number written with the digits 0-9, "
                            f"got {_shown(raw)}")
    if len(raw.lstrip("0")) > len(str(INT32_MAX)):
        raise out_of_range
    value = int(raw)
    if not low <= value <= upper:
        raise out_of_range
    return min(value, high)


def page_arg(name: str, default: int, maximum: int) -> int:
    """A page size (at least 1); a value above `maximum` is clamped to it."""
    return int_arg(name, default, 1, maximum, clamp=True)


def offset_arg(name: str = "offset") -> int:
    """A paging offset: 0 when absent, at most 2**31-1."""
    return int_arg(name, 0, 0, INT32_MAX)
