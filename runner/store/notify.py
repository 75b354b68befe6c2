"""Text messages between runner processes over PostgreSQL's `LISTEN`/`NOTIFY`.

Replicas that share one database need no other broker for their events: `send` runs
`pg_notify` on the store's pool, and one listener thread per process holds a connection of
its own that `LISTEN`s and hands each message to a callback. A `NOTIFY` payload holds at most
8000 bytes, so a longer message is cut into numbered parts sent in one transaction (they
arrive together, in order) and put back together by the receiver. Messages are ASCII (the
caller sends JSON with `ensure_ascii`), so characters and bytes count the same.

A listener that loses its connection reconnects with a growing pause; messages sent while it
was away are lost, as they are for a WebSocket client that reconnects: events say that
something changed, and readers fetch the current state from the API.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg

from .pg import PgStore

log = logging.getLogger(__name__)

PART_CHARS = 7000
RECONNECT_PAUSE_MAX = 5.0


class Channel:
    """One `LISTEN`/`NOTIFY` channel of the store's database."""

    def __init__(self, store: PgStore, name: str, on_message: Callable[[str], None]) -> None:
        self.store = store
        self.name = name
        self._on_message = on_message
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._partial: dict[str, list[str]] = {}
        self._thread = threading.Thread(target=self._listen, name=f"gantry-listen-{name}",
                                        daemon=True)

    def start(self, wait: float = 10.0) -> Channel:
        """Start listening; returns once `LISTEN` is in place (or after `wait` seconds)."""
        self._thread.start()
        self._ready.wait(wait)
        return self

    def send(self, text: str) -> None:
        """Deliver `text` to every listener of the channel (this process's included)."""
        if len(text) <= PART_CHARS:
            self.store.connection().execute("SELECT pg_notify(?, ?)", (self.name, "=" + text))
            return
        message_id = uuid.uuid4().hex
        parts = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)]
        with self.store.transaction() as conn:
            for number, part in enumerate(parts):
                conn.execute("SELECT pg_notify(?, ?)",
                             (self.name, f"+{message_id}:{number}:{len(parts)}:{part}"))

    def _receive(self, payload: str) -> None:
        if payload.startswith("="):
            self._on_message(payload[1:])
            return
        message_id, number, count, part = payload[1:].split(":", 3)
        parts = self._partial.setdefault(message_id, [])
        if int(number) != len(parts):  # a part went missing (reconnect): drop the message
            self._partial.pop(message_id, None)
            return
        parts.append(part)
        if len(parts) == int(count):
            del self._partial[message_id]
            self._on_message("".join(parts))

    def _listen(self) -> None:
        pause = 0.2
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.store.url, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.name}"')
                    self._ready.set()
                    pause = 0.2
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            try:
                                self._receive(notice.payload)
                            except Exception:  # one bad message must not end the listener
                                log.exception("a message on %s could not be handled", self.name)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                log.warning("listening on %s failed (%s); reconnecting in %.1f s", self.name,
                            exc, pause)
                self._stop.wait(pause)
                pause = min(pause * 2, RECONNECT_PAUSE_MAX)

    def close(self) -> None:
        """Stop listening (the thread ends within a second)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
