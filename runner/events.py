"""The in-process event bus behind the WebSocket: publish once, deliver to every subscriber.

It lives in the one runner process (gunicorn runs a single worker with threads), so no
broker is needed. Slow subscribers lose their oldest events rather than block publishers.

Each subscription remembers the credential it was opened with (an opaque key such as
`session:<hash>` or `apikey:<id>`). `revoke(credential)` ends every subscription opened
with it: nothing more is delivered or sent to them, and their connection is woken to
close. The auth layer calls it on logout and key revocation.

`runner.app.create_app` makes the app's bus (`GantryState.bus`) and hands it to whoever
publishes or subscribes: the catalog workspace (entity changes), the actions engine (runs),
the auth API (logout and key revocation), the WebSocket endpoint and the shutdown hook of
`gantry serve`. There is no module-level bus: a publisher without one is a wiring mistake.

Replicas sharing a PostgreSQL store relay their buses to each other (`relay`, wired by
`create_app` to `runner.store.notify.Channel`): every event published in one process, and
every credential revocation, is also sent as JSON to the others, which deliver it to their own
subscribers. Each bus knows its `origin`, so it never delivers its own events twice.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("entities", "actions")
SUBSCRIBER_QUEUE_SIZE = 1000
REVOKED = "credential.revoked"
SEND_WAIT_SECONDS = 2.0

log = logging.getLogger(__name__)


def channel_of(event_type: str) -> str:
    """`entity.*` → `entities`, `action.run.*` → `actions`, anything else → its first word."""
    if event_type.startswith("entity."):
        return "entities"
    if event_type.startswith("action."):
        return "actions"
    return event_type.split(".", 1)[0]


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue, channel filter (None: every channel) and credential.

    `revoked` holds why the credential ended (None while it is valid). Every message to the
    client goes through `send`, which refuses once `revoked` is set; `revoke` waits for a
    send already in flight, so once it returns nothing more reaches the client.
    """

    channels: set[str] | None = None
    queue: queue.Queue = field(default_factory=lambda: queue.Queue(SUBSCRIBER_QUEUE_SIZE))
    closed: bool = False
    credential: str | None = None
    revoked: str | None = None
    _send_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wants(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels

    def subscribe(self, channel: str) -> None:
        if self.channels is None:
            self.channels = set()
        self.channels.add(channel)

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message, or None on timeout or when the bus closed."""
        try:
            message = self.queue.get(timeout=timeout)
        except queue.Empty:
            return None
        return message

    def send(self, text: str, transmit: Callable[[str], Any]) -> bool:
        """Hand `text` to `transmit` unless the credential was revoked; False when refused."""
        with self._send_lock:
            if self.revoked is not None:
                return False
            transmit(text)
            return True

    def revoke(self, reason: str) -> None:
        """End this subscription's credential: no further send, and wake its connection.

        Waits (at most `SEND_WAIT_SECONDS`, so a stalled peer cannot hold up the caller)
        for a send in flight to finish.
        """
        if self.revoked is None:
            self.revoked = reason
        if self._send_lock.acquire(timeout=SEND_WAIT_SECONDS):
            self._send_lock.release()
        self.deliver({"type": REVOKED, "payload": {"reason": self.revoked}})

    def deliver(self, message: dict[str, Any]) -> None:
        while True:
            try:
                self.queue.put_nowait(message)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    pass


class EventBus:
    """Fan-out of `{"type", "payload"}` messages to subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self.closed = False
        self.origin = uuid.uuid4().hex
        self._relay: Callable[[str], None] | None = None
        self._relay_close: Callable[[], None] | None = None
        self._revocation_hooks: list[Callable[[str], None]] = []

    def relay(self, send: Callable[[str], None],
              close: Callable[[], None] | None = None) -> None:
        """Hand every event and revocation of this bus to other processes with `send` too;
        `close` ends the link when the bus closes. What they send comes in by `receive`."""
        self._relay = send
        self._relay_close = close

    def _send(self, message: dict[str, Any]) -> None:
        if self._relay is None:
            return
        try:
            self._relay(json.dumps({"origin": self.origin, **message}, ensure_ascii=True,
                                   default=str))
        except Exception:  # other replicas missing an event must not fail this one
            log.exception("relaying %s to the other runners failed", message.get("type"))

    def receive(self, text: str) -> None:
        """Deliver here what another process's bus relayed (our own messages are skipped)."""
        message = json.loads(text)
        if message.get("origin") == self.origin:
            return
        if message.get("type") == REVOKED:
            self._revoke_here(message["credential"], message["reason"])
        else:
            self._deliver(message["type"], message["payload"])

    def publish(self, type: str, payload: dict[str, Any]) -> None:
        """Send an event to every subscriber that wants its channel, in every process."""
        self._deliver(type, payload)
        self._send({"type": type, "payload": payload})

    def _deliver(self, type: str, payload: dict[str, Any]) -> None:
        message = {"type": type, "payload": payload}
        channel = channel_of(type)
        with self._lock:
            targets = [s for s in self._subscribers if s.wants(channel) and s.revoked is None]
        for subscription in targets:
            subscription.deliver(message)

    def subscribe(self, credential: str | None = None) -> Subscription:
        """A new subscription, remembering the credential its connection was opened with."""
        subscription = Subscription(credential=credential)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def revoke(self, credential: str, reason: str) -> int:
        """End every subscription opened with `credential`, in every process; returns how
        many in this one."""
        count = self._revoke_here(credential, reason)
        self._send({"type": REVOKED, "credential": credential, "reason": reason})
        return count

    def on_revoked(self, hook: Callable[[str], None]) -> None:
        """Call `hook(credential)` for every revocation, this process's and those relayed
        from others (the credential cache forgets it, so no request passes on it here)."""
        self._revocation_hooks.append(hook)

    def _revoke_here(self, credential: str, reason: str) -> int:
        for hook in self._revocation_hooks:
            hook(credential)
        with self._lock:
            targets = [s for s in self._subscribers if s.credential == credential]
        for subscription in targets:
            subscription.revoke(reason)
        return len(targets)

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.closed = True
        with self._lock:
            self._subscribers.discard(subscription)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def close(self) -> None:
        """Wake every subscriber so open connections end (used at shutdown)."""
        self.closed = True
        if self._relay_close is not None:
            self._relay_close()
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.closed = True
            subscription.deliver({"type": "runner.shutdown", "payload": {}})
