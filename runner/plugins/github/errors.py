"""GitHub's answers turned into exceptions that carry GitHub's own message, never a secret."""

from __future__ import annotations

import time

import httpx

from ...retry_after import retry_after

DEFAULT_SECONDARY_WAIT = 60.0
"""GitHub asks to wait at least a minute after a secondary rate limit without `retry-after`."""


class GitHubError(Exception):
    """GitHub refused a request: `status` and GitHub's `message` (and documentation URL)."""

    def __init__(self, status: int, message: str, documentation_url: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.documentation_url = documentation_url

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}" if self.status else self.message


class RateLimited(GitHubError):
    """GitHub's rate limit refused the request; it may be sent again after `retry_in` s."""

    def __init__(self, status: int, message: str, retry_in: float):
        super().__init__(status, message)
        self.retry_in = retry_in


class GitHubUnavailable(GitHubError):
    """No usable answer: a network error, a timeout or repeated server errors."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(status, message)


def github_message(response: httpx.Response) -> tuple[str, str]:
    """GitHub's error `message` and `documentation_url`, or a short excerpt of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"], str(body.get("documentation_url") or "")
    text = response.content[:300].decode("utf-8", errors="replace").strip()
    return text or response.reason_phrase or "no message", ""


def error_from(response: httpx.Response) -> GitHubError:
    """The exception for an unsuccessful answer, a `RateLimited` one when it is a rate limit."""
    message, docs = github_message(response)
    wait = rate_limit_wait(response)
    if wait is not None:
        return RateLimited(response.status_code, message, wait)
    return GitHubError(response.status_code, message, docs)


def rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds GitHub asks to wait before this request may be sent again, or None when the
    answer is not a rate limit. A 403 is a rate limit with `retry-after`, with
    `x-ratelimit-remaining: 0`, or when GitHub's message says so (a secondary rate limit,
    for which GitHub asks to wait at least a minute); otherwise it is a permission problem."""
    if response.status_code not in (403, 429):
        return None
    asked = retry_after(response, now)
    if asked is not None:
        return asked
    headers = response.headers
    if headers.get("x-ratelimit-remaining", "").strip() == "0":
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            now = time.time() if now is None else now
            return max(0.0, int(reset) - now) + 1.0
        return DEFAULT_SECONDARY_WAIT
    if response.status_code == 429 or "rate limit" in github_message(response)[0].lower():
        return DEFAULT_SECONDARY_WAIT  # a secondary rate limit that names no time
    return None
