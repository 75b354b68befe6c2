"""Text messages between the worker processes of one runner, over Unix datagram sockets.

With `gantry serve --workers N` on the SQLite store, a WebSocket client connected to one
worker must still receive the events another worker publishes (a write it answered, a run
it executes). Replicas on PostgreSQL relay over `LISTEN`/`NOTIFY` and need nothing more;
workers on SQLite have no such broker, so each binds a datagram socket named after the data
folder and its slot, and `send` writes the message to every other slot's socket. A slot
with no worker (it is restarting) refuses the datagram and misses the message, as a
WebSocket client that reconnects does: events say that something changed, and readers
fetch the current state from the API.

On Linux the sockets live in the abstract namespace (no file to clean up); elsewhere they
are files in the temporary folder.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 0.2
"""How long `send` waits for a worker whose socket buffer is full (it is far behind)."""
MAX_MESSAGE_BYTES = 200_000
"""A datagram larger than the kernel's default socket buffer would be refused."""


def _address(key: str, slot: int) -> str:
    if sys.platform.startswith("linux"):
        return f"\0gantry-{key}-{slot}"
    return str(Path(tempfile.gettempdir()) / f"gantry-{key}-{slot}.sock")


class WorkerChannel:
    """One datagram socket per worker slot; `send` reaches every other slot."""

    def __init__(self, data_dir: Path, slot: int, slots: int,
                 on_message: Callable[[str], None]) -> None:
        self._key = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
        self.slot = slot
        self.slots = slots
        self._on_message = on_message
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.settimeout(SEND_TIMEOUT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="gantry-worker-channel",
                                        daemon=True)

    def start(self) -> WorkerChannel:
        address = _address(self._key, self.slot)
        if not address.startswith("\0"):
            Path(address).unlink(missing_ok=True)  # left by a worker of this slot that died
        self._socket.bind(address)
        self._socket.settimeout(0.5)
        self._thread.start()
        return self

    def send(self, text: str) -> None:
        """Deliver `text` to the other workers that are running now."""
        data = text.encode("utf-8")
        if len(data) > MAX_MESSAGE_BYTES:
            log.warning("a message of %d bytes is too large for the other workers; dropped",
                        len(data))
            return
        for slot in range(self.slots):
            if slot == self.slot:
                continue
            try:
                self._sender.sendto(data, _address(self._key, slot))
            except (ConnectionRefusedError, FileNotFoundError, TimeoutError):
                continue  # no worker in that slot now, or it is not reading: it misses this

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(MAX_MESSAGE_BYTES + 1)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                raise
            try:
                self._on_message(data.decode("utf-8"))
            except Exception:  # one bad message must not end the listener
                log.exception("a message from another worker could not be handled")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()
        self._sender.close()
