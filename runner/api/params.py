"""Query-string parameters shared by the blueprints, refused with a 400 that names them."""

from __future__ import annotations

from flask import request

from .errors import ApiError


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; `default` when absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}")
    return value
