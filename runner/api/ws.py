"""`/api/v1/ws`: live entity and action-run events over a WebSocket.

The handshake authenticates with a Bearer header or a same-origin `gantry_session`
cookie, and is refused with 401 before the upgrade otherwise. Messages are
`{"type", "payload"}`; a client narrows the stream with
`{"action": "subscribe", "channel": "entities" | "actions"}` (every event is sent until
the first subscription) and widens it again with `unsubscribe`.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

from flask import Blueprint
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from ..api.errors import ApiError, BadJson, parse_json
from ..app import current_state
from ..auth import authenticate, check_same_origin
from ..events import CHANNELS, Subscription

log = logging.getLogger(__name__)

bp = Blueprint("ws", __name__, url_prefix="/api/v1")
sock = Sock()
POLL_SECONDS = 0.05
MAX_CLIENT_MESSAGE = 4096
PING_SECONDS = 25


class _ReaderThread(threading.Thread):
    """The socket reader of one connection; a daemon, so it never holds up shutdown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, daemon=True, **kwargs)


def init_app(app: Any, state: Any) -> None:
    app.config.setdefault("SOCK_SERVER_OPTIONS", {
        "ping_interval": PING_SECONDS, "thread_class": _ReaderThread,
        "max_message_size": MAX_CLIENT_MESSAGE})


@bp.before_request
def _authenticate_handshake() -> None:
    """Refuse the handshake (401, no upgrade) unless the credentials are valid."""
    user = authenticate(csrf=False)
    if user.via == "cookie":
        try:
            check_same_origin()
        except ApiError:
            raise ApiError(401, "WebSocket refused: the session cookie is only accepted from "
                                "this runner's own origin") from None


def _handle(subscription: Subscription, text: Any) -> dict[str, Any] | None:
    """Apply one client message; returns the reply to send."""
    if not isinstance(text, str) or len(text) > MAX_CLIENT_MESSAGE:
        return {"type": "error", "payload": {"message": "messages must be JSON text"}}
    try:
        message = parse_json(text)
    except BadJson as exc:
        return {"type": "error", "payload": {"message": f"malformed JSON message: {exc}"}}
    if not isinstance(message, dict):
        return {"type": "error", "payload": {"message": "a message must be a JSON object"}}
    action, channel = message.get("action"), message.get("channel")
    if action == "ping":
        return {"type": "pong", "payload": {}}
    if action not in ("subscribe", "unsubscribe"):
        return {"type": "error",
                "payload": {"message": "action must be subscribe, unsubscribe or ping"}}
    if channel not in CHANNELS:
        return {"type": "error",
                "payload": {"message": f"channel must be one of {', '.join(CHANNELS)}"}}
    if action == "subscribe":
        subscription.subscribe(channel)
    elif subscription.channels is not None:
        subscription.channels.discard(channel)
    channels = sorted(subscription.channels) if subscription.channels is not None \
        else list(CHANNELS)
    return {"type": f"{action}d", "payload": {"channel": channel, "channels": channels}}


@sock.route("/ws", bp=bp)
def events(ws: Any) -> None:
    state = current_state()
    user = authenticate(csrf=False)
    subscription = state.bus.subscribe()
    gauge = state.metrics.ws_connections
    gauge.inc()
    try:
        ws.send(json.dumps({"type": "connected",
                            "payload": {"user": user.username, "channels": list(CHANNELS)}}))
        while ws.connected and not subscription.closed:
            message = subscription.get(timeout=POLL_SECONDS)
            if message is not None:
                if message["type"] == "runner.shutdown":
                    break
                ws.send(json.dumps(message, default=str))
            while True:
                incoming = ws.receive(timeout=0)
                if incoming is None:
                    break
                reply = _handle(subscription, incoming)
                if reply is not None:
                    ws.send(json.dumps(reply))
    except ConnectionClosed:
        pass
    finally:
        state.bus.unsubscribe(subscription)
        gauge.dec()
        _hang_up(ws)


def _hang_up(ws: Any) -> None:
    """Send a close frame and release the socket even if the peer never answers."""
    try:
        ws.close(reason=1001, message="going away")
    except Exception:  # the peer may already be gone
        pass
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass
