"""Several gunicorn workers on one catalog clone: slots, one writer at a time, HEAD followed.

`gantry serve --workers N` starts N processes that share the clone and the data folder.
Each claims a slot (0 … N-1) by holding an exclusive `flock` on `workers/slot-K.lock` for its
life; the kernel frees the slot when the process ends, so a worker gunicorn starts in place
of a dead one takes its slot, its index and its runs back. Slot 0 also renders the site and
runs the plugins' schedules.

DuckDB lets one process hold a database file, so each slot has an index of its own. Writes
to the clone are serialised across the processes by `WriteLock` (the in-process lock plus a
`flock` in the Git directory), and every worker keeps its index at the commit checked out:
before a request is served, and a few times a second by `HeadWatcher`, the workspace
compares `RefState` with the state it last followed and, when HEAD moved (another
worker's write, a pull), re-reads the files that changed. A client that reads after a
write answered by another worker therefore sees it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

HEAD_POLL_SECONDS = 0.2


class WorkerSlot:
    """The slot this process holds among the runner's workers (a held `flock`)."""

    def __init__(self, folder: Path, count: int) -> None:
        self.count = count
        self.number = -1
        self._handle: IO[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder

    def claim(self, timeout: float = 60.0) -> WorkerSlot:
        """Take the lowest free slot; waits while all are held (a dead worker's is freed by
        the kernel as it exits). RuntimeError when none frees within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for number in range(self.count):
                handle = open(self._folder / f"slot-{number}.lock", "ab")  # noqa: SIM115
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                self.number, self._handle = number, handle
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"all {self.count} worker slots in {self._folder} are "
                                   "held by other processes")
            time.sleep(0.1)

    def release(self) -> None:
        """Give the slot up (the process ending does the same)."""
        if self._handle is not None:
            self._handle.close()
            self._handle, self.number = None, -1

    @property
    def leader(self) -> bool:
        """Slot 0: the worker that renders the site and runs scheduled work."""
        return self.number == 0


class WriteLock:
    """A reentrant lock held by one thread of one process at a time.

    The thread lock comes first, then (at the outermost level) an exclusive `flock` on
    `path`, so threads of one process queue in memory and processes queue in the kernel.
    """

    def __init__(self, path: Path | None) -> None:
        self._thread_lock = threading.RLock()
        self._path = path
        self._handle: IO[bytes] | None = None
        self._depth = 0

    def acquire(self) -> bool:
        self._thread_lock.acquire()
        if self._depth == 0 and self._path is not None:
            try:
                handle = open(self._path, "ab")  # noqa: SIM115
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
            self._handle = handle
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._handle is not None:
            handle, self._handle = self._handle, None
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        self._thread_lock.release()

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class RefState:
    """What changes whenever HEAD or its branch moves: the stats of HEAD, of the branch's
    loose ref and of packed-refs. Three `stat` calls, cheap enough for every request."""

    def __init__(self, git_dir: Path) -> None:
        self._git_dir = str(git_dir)
        self._head = os.path.join(self._git_dir, "HEAD")
        self._packed = os.path.join(self._git_dir, "packed-refs")
        self._head_key: tuple | None = None
        self._branch: str | None = None

    @staticmethod
    def _key(path: str | None) -> tuple | None:
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_ino, stat.st_size

    def current(self) -> tuple:
        head_key = self._key(self._head)
        if head_key != self._head_key:  # HEAD itself changed: which branch it names
            self._head_key = head_key
            try:
                with open(self._head, encoding="utf-8") as handle:
                    text = handle.read().strip()
            except OSError:
                text = ""
            self._branch = os.path.join(self._git_dir, text[5:]) \
                if text.startswith("ref: ") else None
        return head_key, self._key(self._branch), self._key(self._packed)


class HeadWatcher:
    """Calls `follow` a few times a second, so a worker that gets no request still follows
    the others' commits (its caches, and the site when it renders it)."""

    def __init__(self, follow: Callable[[], object]) -> None:
        self._follow = follow
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gantry-head-watch",
                                        daemon=True)

    def start(self) -> HeadWatcher:
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(HEAD_POLL_SECONDS):
            try:
                self._follow()
            except Exception:  # the watcher must outlive one failed refresh
                log.exception("following HEAD of the catalog clone failed")

    def stop(self) -> None:
        self._stop.set()
