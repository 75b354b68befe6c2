"""Signing, URL checks and error wording shared by the executors that send HTTP requests."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from typing import Any

import httpx

RESPONSE_EXCERPT = 2048
"""How much of a response body is kept in a run's outputs or error."""

# httpx logs every request's full URL at INFO; integration URLs may carry a resolved secret
# (`?token=${VAR}`), so those lines must never reach the runner's log.
logging.getLogger("httpx").setLevel(logging.WARNING)


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex>` HMAC of the exact body, as GitHub and Flux receivers check it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def excerpt(response: httpx.Response) -> str:
    """The beginning of a response body as text, for outputs and error messages."""
    text = response.content[:RESPONSE_EXCERPT].decode("utf-8", errors="replace")
    return text.strip()


def body_value(response: httpx.Response) -> Any:
    """The response body as JSON when it is JSON and small, else its text excerpt."""
    if len(response.content) <= RESPONSE_EXCERPT and "json" in response.headers.get(
        "content-type", ""
    ):
        try:
            return response.json()
        except ValueError:
            pass
    return excerpt(response)


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """A short, secret-free description of a network failure (no URL, which may hold one)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"network error ({type(exc).__name__})"


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """One connection pool for the executors that call out over HTTP; redirects not followed.

    Created on first use, so that a runner with no such actions opens nothing.
    """
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False)
        return _client
