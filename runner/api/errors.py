"""JSON errors for every failure of the API, and strict JSON body parsing.

Every error the app produces — any raised `StatusError` (`ApiError` included, and every
service error that knows its status), Flask's own 404/405/413, malformed bodies and unexpected
exceptions — answers `{"error": "..."}` with the right status, so clients never have to parse
HTML error pages. `register` turns a `StatusError` into its answer in one handler; blueprints
let service errors through instead of converting them.
"""

from __future__ import annotations

import json
import logging
import math
import re
from itertools import accumulate
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import StatusError

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


class ApiError(StatusError):
    """Raise anywhere in a request to answer `{"error": message, **extra}` with `status`.

    The API's own spelling of `StatusError` (status first); `register` answers both alike.
    """

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message, status=status, headers=headers, **extra)


def status_response(exc: StatusError) -> Response:
    """The JSON answer of a `StatusError`: its body, status and headers."""
    resp = jsonify(exc.body())
    resp.status_code = exc.status
    for name, value in exc.headers.items():
        resp.headers[name] = value
    return resp


MAX_JSON_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_EXCERPT = 40


class BadJson(ValueError):
    """JSON text that is refused (the message says what is wrong and where)."""


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def check_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """BadJson when arrays/objects nest deeper than `limit`.

    Done before parsing and without recursion, so that text nested thousands deep never
    reaches the recursive parser: strings are cut out, the brackets left become +1/-1
    steps and the deepest running sum is the nesting depth (all in C, linear time).
    """
    steps = _STRING.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS)
    if steps and max(accumulate(memoryview(steps).cast("b"))) > limit:
        raise BadJson(f"nested deeper than {limit} levels")


def _where(node: tuple | None) -> str:
    parts: list[str | int] = []
    while node is not None:
        node, key = node
        parts.append(key)
    where = "$"
    for part in reversed(parts):
        where += f"[{part}]" if isinstance(part, int) else f".{_excerpt(part)}"
    return where


def check_text(data: Any) -> None:
    """BadJson when a key or string anywhere in `data` holds a lone UTF-16 surrogate.

    Such text (`"\\ud800"`) cannot be encoded as UTF-8, so it would fail later in the
    store, in Git or in the site build. The walk uses its own stack, not recursion; each
    entry links to its parent, so the path is spelled out only for the message.
    """
    stack: list[tuple[Any, tuple | None]] = [(data, None)]
    while stack:
        value, node = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found:
                raise BadJson(f"text at {_where(node)} holds a lone surrogate "
                              f"(\\u{ord(found.group()):04x}): send valid Unicode")
        elif isinstance(value, dict):
            for key, item in value.items():
                found = _SURROGATE.search(key)
                if found:
                    shown = _excerpt(_SURROGATE.sub("?", key))
                    raise BadJson(f"key {shown!r} at {_where(node)} holds a lone surrogate "
                                  f"(\\u{ord(found.group()):04x}): send valid Unicode")
                stack.append((item, (node, key)))
        elif isinstance(value, list):
            stack.extend((item, (node, index)) for index, item in enumerate(value))


def _constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadJson(f"the number {_excerpt(text)} is out of range")
    return value


def parse_json(raw: bytes | str) -> Any:
    """Parse untrusted JSON text: UTF-8 only, at most `MAX_JSON_DEPTH` levels, no lone
    surrogates, no NaN/Infinity. Raises BadJson with a message saying what and where.

    The one parser for request bodies and WebSocket messages.
    """
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadJson(f"text holds a lone surrogate at character {exc.start}: "
                          "send valid Unicode") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(f"not valid UTF-8 at byte {exc.start}: {exc.reason}") from None
    check_depth(raw)
    try:
        data = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except BadJson:
        raise
    except (ValueError, RecursionError) as exc:
        raise BadJson(str(exc)) from None
    if _ESCAPED_SURROGATE.search(raw):
        check_text(data)
    return data


def json_body(required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object, read by `parse_json` (the only body reader).

    415 when the content type is not JSON, 400 when the body is malformed, too deep, holds
    lone surrogates or is not an object. With `required=False` an empty body gives `{}`.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "request body is empty: send a JSON object")
        return {}
    if not request.is_json:
        content_type = _excerpt(request.content_type or "none")
        raise ApiError(415, f"content type must be application/json, got {content_type}")
    cached = g.get("gantry_json_body")
    if cached is None:
        try:
            cached = parse_json(raw)
        except BadJson as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from None
        if not isinstance(cached, dict):
            raise ApiError(400, "JSON body must be an object, got "
                                f"{_JSON_TYPES.get(type(cached), type(cached).__name__)}")
        g.gantry_json_body = cached
    return cached


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


def error_response(status: int, message: str | None = None, **extra: Any) -> Response:
    """A JSON error response without raising."""
    return status_response(ApiError(status, message or _MESSAGES.get(status, "error"), **extra))


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

    @app.errorhandler(StatusError)
    def _status_error(exc: StatusError) -> Response:
        return status_response(exc)

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
