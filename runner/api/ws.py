"""`/api/v1/ws`: live entity and action-run events over a WebSocket.

The handshake authenticates with a Bearer header or a same-origin `gantry_session`
cookie, and is refused with 401 before the upgrade otherwise. Messages are
`{"type", "payload"}`; a client narrows the stream with
`{"action": "subscribe", "channel": "entities" | "actions"}` (every event is sent until
the first subscription) and widens it again with `unsubscribe`.

A connection lives no longer than its credential. It remembers the session or API key it
was opened with; logout and key revocation in this process end it at once (through the
event bus), and the credential is read again from the store before every event and at
least every `RECHECK_SECONDS`, which catches expiry, revocation by another process, a
removed user and a lowered role. It then closes with `CLOSE_REVOKED` (4401).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any

from flask import Blueprint, g, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from ..api.errors import ApiError, BadJson, parse_json
from ..auth import SESSION_COOKIE, User, accounts, authenticate, check_same_origin
from ..auth.request import bearer_token
from ..events import CHANNELS, REVOKED, Subscription
from ..store.db import StoreError
from .common import current_state

log = logging.getLogger(__name__)

bp = Blueprint("ws", __name__, url_prefix="/api/v1")
sock = Sock()
POLL_SECONDS = 0.05
MAX_CLIENT_MESSAGE = 4096
PING_SECONDS = 25
RECHECK_SECONDS = 2.0
CLOSE_GOING_AWAY = 1001
CLOSE_INTERNAL_ERROR = 1011
CLOSE_REVOKED = 4401


class _ReaderThread(threading.Thread):
    """The socket reader of one connection; a daemon, so it never holds up shutdown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, daemon=True, **kwargs)


@bp.record_once
def _server_options(setup: Any) -> None:
    """Ping, reader thread and message size of every socket, set when the area registers."""
    setup.app.config.setdefault("SOCK_SERVER_OPTIONS", {
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
    g.ws_credential = _handshake_credential(user)


def _handshake_credential(user: User) -> accounts.Credential:
    """The session or key the handshake used, read from the store itself (not the cache)."""
    token = bearer_token() or request.cookies.get(SESSION_COOKIE) or ""
    credential = accounts.credential_for(current_state().store, token,
                                         api_key=user.via == "apikey")
    if credential is None:
        raise ApiError(401, "invalid or expired token")
    return credential


def _still_valid(store: Any, credential: accounts.Credential,
                 subscription: Subscription) -> bool:
    """Check the credential against the clock and the store; revoke the subscription if ended."""
    if subscription.revoked is not None:
        return False
    reason = "the session expired: log in again" if credential.expired() \
        else accounts.credential_ended(store, credential)
    if reason is None:
        return True
    log.info("closing a WebSocket of %s: %s", credential.username, reason)
    subscription.revoke(reason)
    return False


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
    credential: accounts.Credential = g.ws_credential
    subscription = state.bus.subscribe(credential.key)
    gauge = state.metrics.ws_connections
    gauge.inc()
    close = (CLOSE_GOING_AWAY, "going away")
    next_check = time.monotonic()  # at once: a revocation may have come before subscribing

    def send(message: dict[str, Any]) -> None:
        subscription.send(json.dumps(message, default=str), ws.send)

    try:
        send({"type": "connected",
              "payload": {"user": credential.username, "channels": list(CHANNELS)}})
        while ws.connected and not subscription.closed:
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + RECHECK_SECONDS
                _still_valid(state.store, credential, subscription)
            if subscription.revoked is not None:
                close = (CLOSE_REVOKED, subscription.revoked)
                break
            message = subscription.get(timeout=POLL_SECONDS)
            if message is not None:
                if message["type"] == "runner.shutdown":
                    break
                if message["type"] == REVOKED:
                    continue
                next_check = time.monotonic() + RECHECK_SECONDS
                if _still_valid(state.store, credential, subscription):
                    send(message)
            while True:
                incoming = ws.receive(timeout=0)
                if incoming is None:
                    break
                reply = _handle(subscription, incoming)
                if reply is not None:
                    send(reply)
    except ConnectionClosed:
        pass
    except StoreError:
        log.exception("closing a WebSocket: its credential cannot be checked")
        subscription.revoke("the credential cannot be checked")
        close = (CLOSE_INTERNAL_ERROR, "the credential cannot be checked")
    finally:
        state.bus.unsubscribe(subscription)
        gauge.dec()
        _hang_up(ws, *close)


def _hang_up(ws: Any, code: int, message: str) -> None:
    """Send a close frame and release the socket even if the peer never answers."""
    try:
        ws.close(reason=code, message=message[:120])
    except Exception:  # the peer may already be gone
        pass
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass
