"""The runner's static site: rendered at start, then re-rendered page by page after writes.

Pages are rendered in a fresh Python process (`render_site_job`) from a snapshot of the
index (`SiteRenderer.copy_index`), so the site's read-only connections never meet the
workspace's read-write one and writes never queue behind a site build. A worker thread
coalesces the refs written meanwhile into one build.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.index.build import wal_of

from .gate import Gate

log = logging.getLogger(__name__)

MAX_SNAPSHOT_ATTEMPTS = 3
RENDER_COMMAND = "from runner.catalog.site import render_site_job as r; r()"


def render_site_job() -> None:
    """Entry point of the site-build process: a JSON job on stdin, a summary on stdout."""
    from generator.site.build import build_site

    job = json.load(sys.stdin)
    refs = job["changed_refs"]
    stats = build_site(Path(job["index"]), Path(job["catalog"]), Path(job["out"]),
                       config=job["config"], changed_refs=None if refs is None else set(refs))
    print(f"{getattr(stats, 'pages_written', '?')} pages written in "
          f"{getattr(stats, 'seconds', 0.0):.2f}s")


SNAPSHOT_CHUNK = 4 << 20


def _copy_settled(source: Path, target: Path) -> None:
    """Copy a file, flushing it to disk every few megabytes as it goes.

    A plain copy of a 140 MB index leaves it all in the page cache for the kernel to write
    later; an index update committing meanwhile then waits in `fsync` behind that whole
    backlog (200 ms instead of 20 at 100k entities). Flushing as it goes keeps the backlog
    to one chunk; the copy itself runs in the background and may take longer.
    """
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(SNAPSHOT_CHUNK):
            dst.write(chunk)
            dst.flush()
            os.fdatasync(dst.fileno())


def _file_state(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class SiteRenderer:
    """Renders the site of one index into `site_dir` and keeps it current after writes.

    `config` gives the site settings at build time; `generation` is the workspace's index
    update counter (odd while an update runs), read to take a snapshot that no update
    overlapped; `gate` holds updates back when they keep coming.
    """

    def __init__(self, index_path: Path, catalog_root: Path, site_dir: Path, *,
                 config: Callable[[], dict[str, Any]], gate: Gate,
                 generation: Callable[[], int]) -> None:
        self.index_path = index_path
        self.catalog_root = catalog_root
        self.site_dir = site_dir
        self._config = config
        self._gate = gate
        self._generation = generation
        self._cond = threading.Condition()
        self._pending: set[str] = set()
        self._full = False
        """A build of every page is queued (the first build of a runner started in the
        background)."""
        self.built = threading.Event()
        """Set once a build queued by `queue_all` has ended (rendered or failed)."""
        self._idle = True
        self._thread: threading.Thread | None = None
        self._snapshot_of: tuple | None = None  # (index file, snapshot file) states when copied
        self._stopping = False
        self._process: subprocess.Popen | None = None

    def build(self, changed_refs: set[str] | None, index_path: Path | None = None) -> bool:
        """Render the site (only the pages of `changed_refs` when given) from an index.

        The build runs in a fresh Python process: large builds fork a pool of renderers,
        and forking the threaded runner process can leave a child waiting forever on a lock
        some other thread held. A failed build is logged (and False returned); the API is
        not affected.
        """
        if changed_refs is not None and not changed_refs:
            return True
        job = json.dumps({"index": str(index_path or self.index_path),
                          "catalog": str(self.catalog_root), "out": str(self.site_dir),
                          "config": self._config(),
                          "changed_refs": None if changed_refs is None else sorted(changed_refs)},
                         default=str)
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", RENDER_COMMAND],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            log.error("the site build could not start: %s", exc)
            return False
        self._process = process
        out, err = process.communicate(job.encode())
        self._process = None
        if process.returncode != 0:
            log.error("the site could not be rebuilt (exit %s): %s", process.returncode,
                      err.decode("utf-8", "replace").strip()[-2000:])
            return False
        log.info("site: %s", out.decode("utf-8", "replace").strip())
        return True

    def queue_all(self) -> None:
        """Ask the site worker for a build of every page (which returns at once when the
        site already matches the index); `built` is set when it has ended."""
        self._full = True
        self.queue(set())

    def wait_built(self, timeout: float | None = None) -> bool:
        """Block until the build queued by `queue_all` has ended; False on timeout."""
        return self.built.wait(timeout)

    def queue(self, refs: set[str]) -> None:
        """Ask the site worker to re-render these refs' pages (coalesced with pending ones)."""
        if not refs and not self._full:
            return
        with self._cond:
            self._pending |= refs
            self._idle = False
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._worker, name="gantry-site",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.stop)
            self._cond.notify_all()

    def _worker(self) -> None:
        """Re-render pages after writes, from a snapshot of the index.

        The snapshot frees the index at once for the next write: a site build takes far
        longer than an index update, and writes must not queue behind it.
        """
        snapshot = self.index_path.with_name("site-snapshot.duckdb")
        while True:
            with self._cond:
                while not self._pending and not self._full and not self._stopping:
                    self._idle = True
                    self._cond.notify_all()
                    self._cond.wait()
                if self._stopping:
                    self._idle = True
                    self._cond.notify_all()
                    return
                refs, self._pending = self._pending, set()
                full, self._full = self._full, False
            try:
                self._snapshot(snapshot)
                self.build(None if full else refs, snapshot)
            except Exception:  # the worker must outlive any one failed build
                log.exception("the site could not be updated for %d entities", len(refs))
            finally:
                if full:
                    self.built.set()

    def _snapshot(self, target: Path) -> None:
        """Copy the index file and its write-ahead log to `target` (and `target.wal`).

        Nothing is locked while copying: an index update changes the files, so the update
        counter (odd while an update runs) is read before and after, and the copy is taken
        again when an update overlapped it. Readers are never held up.
        """
        for _attempt in range(MAX_SNAPSHOT_ATTEMPTS):
            generation = self._generation()
            if generation % 2 == 0:
                self.copy_index(target)
                if generation == self._generation():
                    return
            time.sleep(0.05)
        token = self._gate.acquire_read()  # updates keep coming: hold them back for a copy
        try:
            self.copy_index(target)
        finally:
            self._gate.release_read(token)

    def copy_index(self, target: Path) -> None:
        """Copy the index and its log to `target`; the index file only when it changed.

        DuckDB appends updates to the write-ahead log and rewrites the database file only
        when it checkpoints (every 16 MB of log), so between checkpoints a snapshot needs
        only the new log: the site's page renders then cost no 140 MB copy at 100k
        entities. The site build opens the snapshot read-only, so the copy stays as made;
        its own state is checked anyway.
        """
        wal = wal_of(self.index_path)
        target_wal = wal_of(target)
        source = _file_state(self.index_path)
        if self._snapshot_of != (source, _file_state(target)):
            target_wal.unlink(missing_ok=True)  # the old copy's log never meets the new copy
            _copy_settled(self.index_path, target)
            self._snapshot_of = (source, _file_state(target))
        try:
            _copy_settled(wal, target_wal)
        except FileNotFoundError:
            target_wal.unlink(missing_ok=True)

    def stop(self, timeout: float = 10.0) -> None:
        """End the site worker (at shutdown); a build under way is stopped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self.built.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until every queued page is rendered; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._idle, timeout)


class SiteOfAnotherWorker(SiteRenderer):
    """The site as seen by a worker other than the first: that one renders it into the
    shared folder; this one only serves it."""

    def build(self, changed_refs: set[str] | None, index_path: Path | None = None) -> bool:
        return True

    def queue(self, refs: set[str]) -> None:
        return None

    def queue_all(self) -> None:
        self.built.set()
