"""The readers-writer gate of the index: many readers, or one index update.

The workspace keeps one long-lived read-write DuckDB connection; request reads are cursors
of it. An index update holds the gate exclusively, so reads never refill the in-memory
record cache with a row the update is replacing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb


class Gate:
    """Many readers or one writer; a waiting writer holds back new readers.

    A thread that already reads may open more readers (nested reads never deadlock).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers: dict[int, int] = {}
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self) -> int:
        """Enter as a reader; returns the token to pass to `release_read`."""
        me = threading.get_ident()
        with self._cond:
            if not self._readers.get(me):
                while self._writer or self._writers_waiting:
                    self._cond.wait()
            self._readers[me] = self._readers.get(me, 0) + 1
        return me

    def release_read(self, token: int) -> None:
        """Leave as a reader (the token `acquire_read` returned)."""
        with self._cond:
            left = self._readers.get(token, 1) - 1
            if left:
                self._readers[token] = left
            else:
                self._readers.pop(token, None)
            if not self._readers:
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold out every reader for the duration (an index update)."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class ReadConnection:
    """A read-only cursor on the index; `close()` (or leaving `with`) releases it.

    Behaves like a DuckDB connection for `execute`, `fetchone`, `fetchall` and friends.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, gate: Gate, token: int) -> None:
        self._cursor = cursor
        self._gate: Gate | None = gate
        self._token = token

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def close(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            try:
                self._cursor.close()
            finally:
                gate.release_read(self._token)

    def __enter__(self) -> ReadConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
