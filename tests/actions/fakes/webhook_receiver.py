"""A webhook receiver that records every request and can misbehave on demand.

`fail_times` answers the first N requests with `fail_status` (503 by default, 429 with
`retry_after`); `status` is the answer after that; `hang_seconds` delays every answer;
`fail_forever` keeps failing; `echo_headers` puts the received headers in the answer
(a careless receiver that reflects credentials). Requests are recorded with their arrival time.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from .server import LocalServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Behaviour:
    fail_times: int = 0
    fail_status: int = 503
    fail_forever: bool = False
    retry_after: str | None = None
    status: int = 200
    answer: dict = field(default_factory=lambda: {"accepted": True})
    hang_seconds: float = 0.0
    echo_headers: bool = False


class WebhookReceiver(LocalServer):
    def __init__(self, **behaviour: object):
        self.behaviour = Behaviour(**behaviour)  # type: ignore[arg-type]
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        super().__init__(_Handler)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until `count` requests arrived (or the timeout passed); return them."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.arrived.wait(remaining)
            return list(self.requests)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _handle(self) -> None:
        receiver: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with receiver.arrived:
            receiver.requests.append(
                Received(self.command, self.path, dict(self.headers.items()), body, time.time())
            )
            number = len(receiver.requests)
            receiver.arrived.notify_all()
        behaviour = receiver.behaviour
        if behaviour.hang_seconds:
            time.sleep(behaviour.hang_seconds)
        if behaviour.fail_forever or number <= behaviour.fail_times:
            failure = {"error": "temporarily unavailable"}
            if behaviour.echo_headers:
                failure["receivedHeaders"] = dict(self.headers.items())
            payload = json.dumps(failure).encode()
            self.send_response(behaviour.fail_status)
            if behaviour.retry_after is not None:
                self.send_header("Retry-After", behaviour.retry_after)
        else:
            answer = dict(behaviour.answer)
            if behaviour.echo_headers:
                answer["receivedHeaders"] = dict(self.headers.items())
            payload = json.dumps(answer).encode()
            self.send_response(behaviour.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle
