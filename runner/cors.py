"""CORS for a site published on another origin (`GANTRY_CORS_ORIGINS`).

Only the listed origins get CORS answers, always with credentials (so a page there may
send the runner's session cookie), never `*`. Preflights (`OPTIONS` with
`Access-Control-Request-Method`) from a listed origin are answered 204 with the methods
and headers the API uses; from any other origin 403, with no CORS headers. Every other
rule stays: a cookie write must still carry a trusted `Origin` (the runner's own or a
listed one, see `runner.auth.request.check_same_origin`).
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, X-Requested-With"
EXPOSED_HEADERS = "ETag, Location, Retry-After, X-Gantry-Commit"
PREFLIGHT_MAX_AGE = "600"


def install(app: Flask, origins: tuple[str, ...]) -> None:
    """Answer preflights and add CORS headers for `origins` (nothing when empty)."""
    allowed = frozenset(origins)
    if not allowed:
        return

    @app.before_request
    def _preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        origin = request.headers.get("Origin", "")
        if origin.lower() not in allowed:
            answer = jsonify({"error": f"origin {origin[:100]!r} is not in GANTRY_CORS_ORIGINS"})
            answer.status_code = 403
            return answer
        answer = Response(status=204)
        answer.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        answer.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        answer.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return answer

    @app.after_request
    def _headers(response: Response) -> Response:
        response.vary.add("Origin")
        origin = request.headers.get("Origin", "")
        if origin.lower() in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
