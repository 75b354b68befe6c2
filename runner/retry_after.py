"""Reading an HTTP `Retry-After` header, shared by every client that honours it."""

from __future__ import annotations

import email.utils
import time

import httpx


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds asked for by a `Retry-After` header (seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)
