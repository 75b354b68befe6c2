"""Parse the `syncInterval` strings plugins accept ("30s", "5m", "1h", "1h30m")."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)(h|m|s)")
PATTERN = r"^((\d+h)?(\d+m)?(\d+s)?)$"
"""JSON Schema pattern of a duration; the empty string means "never"."""


def parse_duration(text: str | None) -> float | None:
    """Seconds in `text`, or None when it is empty (no background work)."""
    if not text:
        return None
    if not re.fullmatch(PATTERN, text):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h)")
    seconds = sum(int(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in _PART.findall(text))
    return float(seconds) or None
