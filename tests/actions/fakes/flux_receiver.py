"""A Flux notification-controller receiver endpoint: `POST /hook/<digest>`.

Behaves like the controller's receiver server for a `generic-hmac` Receiver: an unknown digest
answers 404, a signature that does not validate answers 400, a Receiver that is not ready
answers 503, and an accepted event answers 200. The signature is `X-Signature: <alg>=<hex>`
(sha1, sha256 or sha512), the HMAC of the raw body keyed with the Receiver's token.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler

from .server import LocalServer

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class FluxReceiver(LocalServer):
    def __init__(self, token: str | None, digest: str = "f1e2d3c4b5a697887766", ready=True):
        self.token = token
        self.digest = digest
        self.ready = ready
        self.accepted: list[bytes] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def hook_url(self) -> str:
        return f"{self.url}/hook/{self.digest}"


def signature_valid(header: str | None, body: bytes, token: str) -> bool:
    if not header or "=" not in header:
        return False
    algorithm, _, received = header.partition("=")
    digest = _ALGORITHMS.get(algorithm)
    if digest is None:
        return False
    expected = hmac.new(token.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, received)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        receiver: FluxReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != f"/hook/{receiver.digest}":
            return self._answer(404)
        if not receiver.ready:
            return self._answer(503)
        if receiver.token is not None and not signature_valid(
            self.headers.get("X-Signature"), body, receiver.token
        ):
            with receiver.lock:
                receiver.refused.append(self.headers.get("X-Signature") or "")
            return self._answer(400)
        with receiver.lock:
            receiver.accepted.append(body)
        return self._answer(200)
