"""The in-process event bus behind the WebSocket: publish once, deliver to every subscriber.

It lives in the one runner process (gunicorn runs a single worker with threads), so no
broker is needed. Slow subscribers lose their oldest events rather than block publishers.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("entities", "actions")
SUBSCRIBER_QUEUE_SIZE = 1000


def channel_of(event_type: str) -> str:
    """`entity.*` → `entities`, `action.run.*` → `actions`, anything else → its first word."""
    if event_type.startswith("entity."):
        return "entities"
    if event_type.startswith("action."):
        return "actions"
    return event_type.split(".", 1)[0]


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue and channel filter (None: every channel)."""

    channels: set[str] | None = None
    queue: queue.Queue = field(default_factory=lambda: queue.Queue(SUBSCRIBER_QUEUE_SIZE))
    closed: bool = False

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

    def publish(self, type: str, payload: dict[str, Any]) -> None:
        """Send an event to every subscriber that wants its channel."""
        message = {"type": type, "payload": payload}
        channel = channel_of(type)
        with self._lock:
            targets = [s for s in self._subscribers if s.wants(channel)]
        for subscription in targets:
            subscription.deliver(message)

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

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
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.closed = True
            subscription.deliver({"type": "runner.shutdown", "payload": {}})


bus = EventBus()


def publish(type: str, payload: dict[str, Any]) -> None:
    """Publish on the process-wide bus."""
    bus.publish(type, payload)
