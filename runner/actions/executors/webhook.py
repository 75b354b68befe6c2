"""`webhook`: send the run's inputs as JSON to a URL, with retries that a receiver can dedupe.

Config (checked against `schemas/action.json`, `$defs/webhook`): `url`, `method` (POST, PUT,
PATCH, GET or DELETE; default POST), `headers`, `secret` (HMAC key for
`X-Hub-Signature-256: sha256=<hex>` over the exact body), `timeout` (seconds per attempt,
default 10, at most 300), `retries` (default 3, at most 10). `${VAR}` in `url`, `headers` and
`secret` comes from the runner's environment, limited to what GANTRY_ACTION_ENV allows; a
placeholder that is not allowed, or names an unset variable, fails the run before anything is
sent.

Every attempt carries `X-Gantry-Run-Id` and the same `Idempotency-Key`. Network errors, 408,
429 (honouring `Retry-After`) and 5xx are retried with exponential backoff (1, 2, 4, 8 s, ...),
waiting through the engine's timer, not a thread; no retry starts later than
`DELIVERY_WINDOW` seconds after the first attempt, so a failing delivery with the defaults ends
within about 30 seconds. Other answers fail the run at once; redirects are not followed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ...retry_after import retry_after
from ..placeholders import PlaceholderError
from .base import BaseExecutor, Done, Failed, RunContext, Step, Wait
from .http import body_value, describe_transport_error, excerpt, shared_client, sign

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
DELIVERY_WINDOW = 30.0
"""Seconds after the first attempt during which a retry may still start."""
MAX_BACKOFF = 8.0
RETRYABLE_STATUS = frozenset({408, 429})


class _Undelivered(Exception):
    """An attempt that did not deliver: why, the HTTP status if any, and whether to retry."""

    def __init__(self, reason: str, status: int | None = None, *, retryable: bool,
                 delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.delay = delay


class WebhookExecutor(BaseExecutor):
    type = "webhook"

    def start(self, ctx: RunContext) -> Step:
        ctx.state.update(attempts=0, firstAttemptAt=time.time())
        return self._attempt(ctx, honour_window=True)

    def poll(self, ctx: RunContext) -> Step:
        return self._attempt(ctx, honour_window=True)

    def resume(self, ctx: RunContext) -> Step:
        """Deliver again with the same Idempotency-Key while attempts remain.

        The time the runner was down does not count against the delivery window.
        """
        if ctx.state.get("attempts", 0) > self._retries(ctx.config):
            return Failed("the runner restarted after the last delivery attempt had failed")
        ctx.state["firstAttemptAt"] = time.time()
        return self._attempt(ctx, honour_window=False)

    def _retries(self, config: dict[str, Any]) -> int:
        return int(config.get("retries", DEFAULT_RETRIES))

    def _attempt(self, ctx: RunContext, honour_window: bool) -> Step:
        try:
            resolved = ctx.placeholders.resolve_all({
                "url": ctx.config.get("url"),
                "headers": dict(ctx.config.get("headers") or {}),
                "secret": ctx.config.get("secret"),
            }, ctx.secrets)
        except PlaceholderError as exc:
            return Failed(f"{exc}; nothing was sent")
        url, headers, secret = resolved["url"], resolved["headers"], resolved["secret"]
        attempts = int(ctx.state.get("attempts", 0)) + 1
        ctx.state["attempts"] = attempts
        body = json.dumps(ctx.inputs, separators=(",", ":"), sort_keys=True).encode()
        request_headers = {"Content-Type": "application/json", **headers}
        request_headers["X-Gantry-Run-Id"] = ctx.run_id
        request_headers["Idempotency-Key"] = f"gantry-run-{ctx.run_id}"
        if secret:
            request_headers["X-Hub-Signature-256"] = sign(secret, body)
        method = str(ctx.config.get("method", "POST")).upper()
        timeout = float(ctx.config.get("timeout", DEFAULT_TIMEOUT))
        try:
            response = self._send(method, url, request_headers, body, timeout)
        except _Undelivered as failure:
            return self._retry_or_fail(ctx, failure, attempts, honour_window)
        except httpx.InvalidURL:
            return Failed("config.url is not a valid URL once resolved; nothing was sent")
        except (httpx.LocalProtocolError, UnicodeEncodeError, ValueError):
            return Failed("config.headers hold an invalid header value; nothing was sent")
        return Done(
            {"statusCode": response.status_code, "attempts": attempts,
             "response": body_value(response)}
        )

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes, timeout: float
    ) -> httpx.Response:
        try:
            response = shared_client().request(
                method, url, headers=headers, content=body, timeout=timeout
            )
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.UnsupportedProtocol):
                raise httpx.InvalidURL(str(exc)) from exc
            if isinstance(exc, httpx.LocalProtocolError):
                raise
            raise _Undelivered(describe_transport_error(exc), retryable=True) from exc
        status = response.status_code
        if status in RETRYABLE_STATUS or status >= 500:
            delay = retry_after(response) if status in (429, 503) else None
            raise _Undelivered(_status_reason(response), status, retryable=True, delay=delay)
        if status >= 300:
            if 300 <= status < 400:
                reason = f"HTTP {status}: the webhook redirected, and redirects are not followed"
            else:
                reason = _status_reason(response)
            raise _Undelivered(reason, status, retryable=False)
        return response

    def _retry_or_fail(
        self, ctx: RunContext, failure: _Undelivered, attempts: int, honour_window: bool
    ) -> Step:
        outputs = {"attempts": attempts, "statusCode": failure.status}
        if not failure.retryable:
            return Failed(f"the webhook answered {failure.reason}", outputs)
        if attempts > self._retries(ctx.config):
            return Failed(
                f"webhook delivery failed after {attempts} attempt(s); last: {failure.reason}",
                outputs,
            )
        delay = min(2.0 ** (attempts - 1), MAX_BACKOFF)
        if failure.delay is not None:
            delay = failure.delay
        started = float(ctx.state.get("firstAttemptAt", time.time()))
        if honour_window and time.time() + delay - started > DELIVERY_WINDOW:
            return Failed(
                f"webhook delivery failed after {attempts} attempt(s); last: {failure.reason}; "
                f"the next retry (in {delay:g} s) would start after the "
                f"{DELIVERY_WINDOW:g} s delivery window",
                outputs,
            )
        return Wait(delay)



def _status_reason(response: httpx.Response) -> str:
    text = excerpt(response)
    return f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"


EXECUTOR = WebhookExecutor()
