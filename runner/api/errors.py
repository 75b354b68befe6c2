"""JSON errors for every failure of the API, and strict JSON body parsing.

Every error the app produces — raised `ApiError`s, Flask's own 404/405/413, malformed
bodies and unexpected exceptions — answers `{"error": "..."}` with the right status, so
clients never have to parse HTML error pages.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_MESSAGES = {
    400: "bad request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    415: "unsupported media type",
    422: "unprocessable entity",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


class ApiError(Exception):
    """Raise anywhere in a request to answer `{"error": message, **extra}` with `status`."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> Response:
        body = {"error": self.message, **self.extra}
        resp = jsonify(body)
        resp.status_code = self.status
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


def json_body(required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object.

    415 when the content type is not JSON, 400 when the body is malformed or not an object.
    With `required=False` an empty body gives `{}`.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "request body is empty: send a JSON object")
        return {}
    if not request.is_json:
        content_type = request.content_type or "none"
        raise ApiError(415, f"content type must be application/json, got {content_type}")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"JSON body must be an object, got {type(data).__name__}")
    return data


def error_response(status: int, message: str | None = None, **extra: Any) -> Response:
    """A JSON error response without raising."""
    return ApiError(status, message or _MESSAGES.get(status, "error"), **extra).response()


DRAIN_LIMIT_BYTES = 64 * 1024 * 1024


def _drain_body() -> None:
    """Read and drop an oversized body, so the client gets the 413 instead of a reset.

    Closing the connection while the client is still sending makes TCP reset it before
    the answer is read. Bodies beyond `DRAIN_LIMIT_BYTES` are not drained (the
    connection is then simply closed).
    """
    length = request.content_length
    if length is None or length > DRAIN_LIMIT_BYTES:
        return
    stream = request.environ.get("wsgi.input")
    remaining = length
    try:
        while remaining > 0 and stream is not None:
            chunk = stream.read(min(65536, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:
        pass


def register(app: Flask) -> None:
    """Install the JSON error handlers on the app."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = _MESSAGES.get(status) or (exc.name or "error").lower()
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"request body too large (limit {limit} bytes)"
            _drain_body()
        elif status == 405:
            message = f"method {request.method} not allowed on {request.path}"
        elif status == 404:
            message = f"no such route: {request.path}"
        elif status == 400 and exc.description:
            message = f"bad request: {exc.description}"
        resp = error_response(status, message)
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal server error")
