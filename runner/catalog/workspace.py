"""The runner's view of the catalog: the working tree, its own index and site, the write lock.

The catalog in Git is the truth; the runner keeps a DuckDB index and a static site of it
under `GANTRY_DATA_DIR` and brings both up to date at start and after every write or pull.

DuckDB lets one process hold a database file, and inside that process every connection to
the same file must use the same mode. The workspace keeps one long-lived read-write
connection: request reads are cursors of it (tens of microseconds each, against a warm
cache), and the incremental index update opens its own connection to the same file, which
DuckDB attaches to the same database instance. A readers-writer gate keeps reads out
during an update so the in-memory record cache is never refilled with a row the update is
replacing. The site is rendered from a copy of the index and its
write-ahead log (see `_site_worker`), so its read-only connections never meet the
read-write one.

The index is derived data. Whatever state a stop left it in, `_open_index` is the one way
the runner opens it: an index that cannot be opened, replayed or read is set aside with a
warning and rebuilt from the catalog, so a damaged file never keeps the runner from
starting.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from generator.index.build import build_index, wal_of
from generator.index.schema import IndexUnusable, check_index, first_line
from generator.structure.entity import DEFAULT_NAMESPACE, make_ref
from generator.structure.kinds import SchemaRegistry

from .. import events
from .dashboard import DashboardError, load_settings
from .git import CatalogRepo, find_work_tree

log = logging.getLogger(__name__)

CONFIG_FILE = "gantry.yaml"
MAX_LOGGED_PROBLEMS = 50
MAX_SNAPSHOT_ATTEMPTS = 3
RECORD_CACHE_SIZE = 20_000
"""Entities kept parsed in memory for GET; the cache empties whenever the index changes."""

_ENTITY_COLUMNS = "ref, kind, data, path, line, created_at, updated_at, created_by"


class WorkspaceError(Exception):
    """The workspace cannot be served (missing catalog, unreadable index); says why."""


def etag_of(data: dict[str, Any]) -> str:
    """The version tag of an entity document: a hash of its content as plain JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """One entity as the index holds it, with where it is written."""

    ref: str
    kind: str
    data: dict[str, Any]
    path: str
    line: int
    created_at: str | None
    updated_at: str | None
    created_by: str | None

    @property
    def etag(self) -> str:
        return etag_of(self.data)

    def as_json(self) -> dict[str, Any]:
        """The entity as the API shows it: the document plus Git-derived metadata."""
        body = json.loads(json.dumps(self.data))
        metadata = body.get("metadata")
        if not isinstance(metadata, dict):
            metadata = body["metadata"] = {}
        metadata.setdefault("namespace", DEFAULT_NAMESPACE)
        metadata["createdAt"] = self.created_at
        metadata["updatedAt"] = self.updated_at
        metadata["createdBy"] = self.created_by
        return body


def _record(row: tuple) -> EntityRecord:
    ref, kind, data, path, line, created_at, updated_at, created_by = row
    return EntityRecord(ref, kind, json.loads(data) if isinstance(data, str) else data, path,
                        line, _iso(created_at), _iso(updated_at), created_by)


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


BROKEN_SUFFIX = ".broken"
LOCK_WAIT_SECONDS = 10.0
"""How long a start waits for a process that is ending (an old worker) to free the index."""


def _connect_index(index: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `index`, its log folded into the file and its tables
    checked; IndexUnusable says why it cannot be used.

    The checkpoint matters: DuckDB leaves a replayed log in place when a connection only
    reads, and a log left beside a file that a build later replaces would not match it.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(index))
            break
        except duckdb.Error as exc:
            if "could not set lock" not in str(exc).lower():
                raise IndexUnusable(f"it cannot be opened ({first_line(exc)})") from exc
            if time.monotonic() > deadline:  # held, not broken: never set aside
                raise WorkspaceError(f"the index {index} is held by another process: "
                                     f"{first_line(exc)}") from exc
            time.sleep(0.1)
    try:
        con.execute("CHECKPOINT")
        check_index(con)
        con.execute("SELECT count(*) FROM meta").fetchone()
    except (duckdb.Error, IndexUnusable) as exc:
        con.close()
        if isinstance(exc, IndexUnusable):
            raise
        raise IndexUnusable(f"it cannot be read ({first_line(exc)})") from exc
    return con


def _set_aside(index: Path) -> Path:
    """Move an unusable index and its log to `<index>.broken` (replacing an older one), for
    a look later; they are derived data and are rebuilt from the catalog."""
    aside = index.with_name(index.name + BROKEN_SUFFIX)
    wal_of(aside).unlink(missing_ok=True)
    if index.exists():
        os.replace(index, aside)
    if wal_of(index).exists():
        os.replace(wal_of(index), wal_of(aside))
    return aside


def _remove_leftover_builds(folder: Path, name: str) -> None:
    """Delete temporary build folders a stop left behind (`.<name>.*`)."""
    for leftover in folder.glob(f".{name}.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def _differs(old: EntityRecord | None, new: EntityRecord | None) -> bool:
    if old is None or new is None:
        return old is not new
    return old.data != new.data


class _Gate:
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

    def __init__(self, cursor: duckdb.DuckDBPyConnection, gate: _Gate, token: int) -> None:
        self._cursor = cursor
        self._gate: _Gate | None = gate
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


class IndexRefs(Collection[str]):
    """Membership of refs answered from the index, for validating a single write."""

    def __init__(self, workspace: Workspace, extra: set[str]) -> None:
        self._workspace = workspace
        self._extra = extra
        self._seen: dict[str, bool] = {}

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        if ref in self._extra:
            return True
        if ref not in self._seen:
            self._seen[ref] = bool(self._workspace._query(
                "SELECT 1 FROM entities WHERE ref = ?", [ref]))
        return self._seen[ref]

    def __iter__(self) -> Iterator[str]:
        return iter(self._workspace.known_refs() | self._extra)

    def __len__(self) -> int:
        return len(self._workspace.known_refs() | self._extra)


class Workspace:
    """The catalog working tree and the runner's index and site built from it."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.catalog_root = Path(settings.catalog).resolve()
        data_dir = Path(settings.data_dir).resolve()
        self.index_path = data_dir / "index" / "catalog.duckdb"
        self.site_dir = data_dir / "site"
        self.lock = threading.RLock()
        self.registry = SchemaRegistry()
        self.problems: list[Any] = []
        work_tree, reason = find_work_tree(self.catalog_root)
        if work_tree is not None and not self.catalog_root.is_relative_to(work_tree):
            work_tree, reason = None, "the catalog is not inside the Git working tree"
        self.repo_root: Path | None = work_tree
        self.repo: CatalogRepo | None = CatalogRepo(work_tree) if work_tree else None
        self.read_only = work_tree is None
        self.read_only_reason = reason
        self._gate = _Gate()
        self._open_lock = threading.Lock()
        self._db: duckdb.DuckDBPyConnection | None = None
        self._cache: dict[str, EntityRecord] = {}
        self._teams: dict[str, set[str]] = {}
        self._members: dict[str, list[str]] = {}
        self._site_cond = threading.Condition()
        self._site_pending: set[str] = set()
        self._site_idle = True
        self._site_thread: threading.Thread | None = None
        self._snapshot_of: tuple | None = None  # (index file, snapshot file) states when copied
        self._stopping = False
        self._site_process: subprocess.Popen | None = None
        self._generation = 0
        self.config_problem: str | None = None
        """Why gantry.yaml is not used (the site then has default settings), or None."""
        self.started = False

    # --- paths -------------------------------------------------------------------------------

    def repo_path(self, relpath: str) -> str:
        """A catalog-relative path as a path relative to the repository root (for Git)."""
        if self.repo_root is None:
            raise WorkspaceError("the catalog is not in a Git working tree")
        return (self.catalog_root / relpath).relative_to(self.repo_root).as_posix()

    def site_config(self) -> dict[str, Any]:
        """gantry.yaml for the site this runner serves: its action forms submit to this runner.

        `GANTRY_RUNNER_URL` when set, else "/" — the origin the page was loaded from.
        """
        return {**self.config(), "runnerUrl": getattr(self.settings, "runner_url", None) or "/"}

    def config(self) -> dict[str, Any]:
        """The repository's gantry.yaml (dashboard, links, runnerUrl), {} when absent.

        A file the site build could not use (not YAML, not a mapping, text that is not
        valid UTF-8) is reported and replaced by the defaults: the runner keeps starting
        and serving, and the site says nothing wrong until the file is fixed in Git.
        """
        base = self.repo_root or self.catalog_root.parent
        path = base / CONFIG_FILE
        if not path.is_file():
            self.config_problem = None
            return {}
        try:
            loaded = load_settings(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, DashboardError) as exc:
            problem = f"{CONFIG_FILE} cannot be used, the site is built with default " \
                      f"settings until it is fixed: {exc}"
            if problem != self.config_problem:
                log.warning("%s", problem)
            self.config_problem = problem
            return {}
        self.config_problem = None
        return loaded

    # --- start and refresh ------------------------------------------------------------------

    def start(self) -> None:
        """Validate the catalog and bring the index and site up to date (incrementally).

        Problems in the catalog do not stop the runner: they are logged, and the index
        holds every entity that could be read (the first of duplicates).
        """
        from generator.index.graph import warm as warm_graph
        from generator.index.search import warm as warm_search
        from generator.validate import validate_catalog

        if not self.catalog_root.is_dir():
            raise WorkspaceError(f"catalog folder not found: {self.catalog_root} "
                                 "(set GANTRY_CATALOG)")
        if self.read_only:
            log.warning("the runner is read-only: %s", self.read_only_reason)
        with self.lock, self._gate.exclusive():
            self._close_db()
            validation = validate_catalog(self.catalog_root, registry=self.registry,
                                          display_root=self.display_root())
            self.problems = list(validation.problems)
            self._log_problems()
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            _remove_leftover_builds(self.index_path.parent, self.index_path.name)
            if self.index_path.exists() or wal_of(self.index_path).exists():
                with self._open_lock:  # a stop's log folded in, or a broken index rebuilt
                    self._open_index(validation).close()
            try:
                stats = build_index(self.catalog_root, self.index_path, validation=validation)
            except (duckdb.Error, IndexUnusable) as exc:
                log.warning("index: the build failed (%s); building it again from scratch",
                            first_line(exc))
                _set_aside(self.index_path)
                stats = build_index(self.catalog_root, self.index_path, validation=validation)
            for note in stats.notes:
                log.info("index: %s", note)
            log.info("index: %d entities, %d relations (%.2fs%s)", stats.entities,
                     stats.relations, stats.seconds, ", unchanged" if stats.unchanged else "")
        site_refs = None  # a full build, which returns at once when nothing changed
        if stats.changed_refs and (self.site_dir / "index.html").is_file():
            site_refs = stats.changed_refs
        token = self._gate.acquire_read()
        try:
            self._build_site(site_refs)
        finally:
            self._gate.release_read(token)
        with self.connect() as con:  # so the first search and graph do not pay the load
            warm_search(con)
            warm_graph(con)
        self._load_teams()
        self.started = True

    def display_root(self) -> str:
        if self.repo_root is not None:
            return self.catalog_root.relative_to(self.repo_root).as_posix() or "."
        return self.catalog_root.name

    def _log_problems(self) -> None:
        if not self.problems:
            return
        log.warning("the catalog has %d problem(s); the runner serves what could be read",
                    len(self.problems))
        for problem in self.problems[:MAX_LOGGED_PROBLEMS]:
            log.warning("%s:%s:%s: %s", problem.file, problem.line, problem.column,
                        problem.message)

    def _build_site(self, changed_refs: set[str] | None, index_path: Path | None = None) -> None:
        """Render the site (only the pages of `changed_refs` when given) from an index.

        The build runs in a fresh Python process: large builds fork a pool of renderers,
        and forking the threaded runner process can leave a child waiting forever on a lock
        some other thread held. A failed build is logged; the API is not affected.
        """
        if changed_refs is not None and not changed_refs:
            return
        job = json.dumps({"index": str(index_path or self.index_path),
                          "catalog": str(self.catalog_root), "out": str(self.site_dir),
                          "config": self.site_config(),
                          "changed_refs": None if changed_refs is None else sorted(changed_refs)},
                         default=str)
        try:
            process = subprocess.Popen(
                [sys.executable, "-c",
                 "from runner.catalog.workspace import render_site_job as r; r()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            log.error("the site build could not start: %s", exc)
            return
        self._site_process = process
        out, err = process.communicate(job.encode())
        self._site_process = None
        if process.returncode != 0:
            log.error("the site could not be rebuilt (exit %s): %s", process.returncode,
                      err.decode("utf-8", "replace").strip()[-2000:])
            return
        log.info("site: %s", out.decode("utf-8", "replace").strip())

    def config_changed(self) -> None:
        """Re-render the site after gantry.yaml changed.

        Any queued ref will do: the site builder sees the new settings and widens the
        build to every page (the dashboard and quick links are on all of them).
        """
        refs = sorted(self.known_refs())[:1]
        self._queue_site(set(refs))

    def _queue_site(self, refs: set[str]) -> None:
        """Ask the site worker to re-render these refs' pages (coalesced with pending ones)."""
        if not refs:
            return
        with self._site_cond:
            self._site_pending |= refs
            self._site_idle = False
            if self._site_thread is None and not self._stopping:
                self._site_thread = threading.Thread(target=self._site_worker,
                                                     name="gantry-site", daemon=True)
                self._site_thread.start()
                atexit.register(self.stop)
            self._site_cond.notify_all()

    def _site_worker(self) -> None:
        """Re-render pages after writes, from a snapshot of the index.

        The snapshot frees the index at once for the next write: a site build takes far
        longer than an index update, and writes must not queue behind it.
        """
        snapshot = self.index_path.with_name("site-snapshot.duckdb")
        while True:
            with self._site_cond:
                while not self._site_pending and not self._stopping:
                    self._site_idle = True
                    self._site_cond.notify_all()
                    self._site_cond.wait()
                if self._stopping:
                    self._site_idle = True
                    self._site_cond.notify_all()
                    return
                refs, self._site_pending = self._site_pending, set()
            try:
                self._snapshot(snapshot)
                self._build_site(refs, snapshot)
            except Exception:  # the worker must outlive any one failed build
                log.exception("the site could not be updated for %d entities", len(refs))

    def _snapshot(self, target: Path) -> None:
        """Copy the index file and its write-ahead log to `target` (and `target.wal`).

        Nothing is locked while copying: an index update changes the files, so the update
        counter (odd while an update runs) is read before and after, and the copy is taken
        again when an update overlapped it. Readers are never held up.
        """
        for _attempt in range(MAX_SNAPSHOT_ATTEMPTS):
            generation = self._generation
            if generation % 2 == 0:
                self._copy_index(target)
                if generation == self._generation:
                    return
            time.sleep(0.05)
        token = self._gate.acquire_read()  # updates keep coming: hold them back for a copy
        try:
            self._copy_index(target)
        finally:
            self._gate.release_read(token)

    def _copy_index(self, target: Path) -> None:
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
        with self._site_cond:
            self._stopping = True
            self._site_cond.notify_all()
        process = self._site_process
        if process is not None and process.poll() is None:
            process.terminate()
        if self._site_thread is not None:
            self._site_thread.join(timeout)

    def wait_for_site(self, timeout: float = 60.0) -> bool:
        """Block until every queued page is rendered; False on timeout."""
        with self._site_cond:
            return self._site_cond.wait_for(lambda: self._site_idle, timeout)

    def refresh(self, changed_paths: Iterable[str]) -> set[str]:
        """Re-read the given catalog files (relative posix paths, deleted ones included).

        Updates the index, rebuilds the affected site pages and publishes
        `entity.created|updated|deleted` events. Returns the refs whose index rows changed.
        """
        paths = sorted(set(changed_paths))
        if not paths:
            return set()
        with self.lock:
            before = self._records_in(paths)
            with self._gate.exclusive():
                self._cache.clear()
                self._generation += 1
                try:
                    changed = self._update_index(paths)
                finally:
                    self._generation += 1
            after = self._records_in(paths)
            changed |= {ref for ref in before.keys() | after.keys()
                        if _differs(before.get(ref), after.get(ref))}
            self._queue_site(changed)
            if any(ref.startswith("team:") for ref in before.keys() | after.keys()):
                self._load_teams()  # memberships live in Team entities' own rows
        self._publish(before, after)
        return changed

    def _update_index(self, paths: list[str]) -> set[str]:
        """Update the index for `paths`; a full (cached) build when the index cannot be
        updated in place. Called with the gate held exclusively."""
        from generator.index.incremental import update_files

        if self.index_path.is_file():
            with self._open_lock:
                if self._db is None:
                    self._db = self._open_index()
                cursor = self._db.cursor()
            try:
                return set(update_files(self.index_path, self.catalog_root, paths, con=cursor))
            except IndexUnusable as exc:
                log.warning("index: %s; rebuilding it", exc)
            finally:
                cursor.close()
        self._close_db()
        stats = build_index(self.catalog_root, self.index_path)
        return set(stats.changed_refs or ())

    def _publish(self, before: dict[str, EntityRecord], after: dict[str, EntityRecord]) -> None:
        for ref in sorted(before.keys() | after.keys()):
            old, new = before.get(ref), after.get(ref)
            if new is None and old is not None:
                events.publish("entity.deleted", old.as_json())
            elif new is not None and old is None:
                events.publish("entity.created", new.as_json())
            elif _differs(old, new):
                events.publish("entity.updated", new.as_json())

    # --- reading ------------------------------------------------------------------------------

    def _close_db(self) -> None:
        """Drop the connection and the record cache (called with the gate exclusive)."""
        self._cache.clear()
        with self._open_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _open_index(self, validation: Any = None) -> duckdb.DuckDBPyConnection:
        """Open the index read-write; the one way the runner opens it (`_open_lock` held).

        An index that cannot be opened, replayed or read (a damaged file, a log of another
        database, a truncated log, an older schema) is set aside with a warning and built
        again from the catalog; the index is derived data, so nothing is lost. While it is
        rebuilt the update counter is odd, so the site snapshot does not copy a half file.
        """
        if self.index_path.is_file():
            try:
                return _connect_index(self.index_path)
            except IndexUnusable as exc:
                aside = _set_aside(self.index_path)
                log.warning("index: %s %s; it was moved to %s and is rebuilt from the catalog",
                            self.index_path, exc, aside.name)
        elif wal_of(self.index_path).exists():
            log.warning("index: a write-ahead log without its index was found; it was set "
                        "aside and the index is rebuilt from the catalog")
            _set_aside(self.index_path)
        self._cache.clear()
        bumped = self._generation % 2 == 0
        if bumped:
            self._generation += 1
        try:
            build_index(self.catalog_root, self.index_path, validation=validation)
        finally:
            if bumped:
                self._generation += 1
        try:
            return _connect_index(self.index_path)
        except IndexUnusable as exc:
            raise WorkspaceError(f"the index {self.index_path} was rebuilt but cannot be "
                                 f"opened: {exc}") from exc

    def connect(self) -> ReadConnection:
        """A connection for reading the index; close it when done (or use `with`).

        Use it for queries only: changes go through `refresh`.
        """
        token = self._gate.acquire_read()
        try:
            with self._open_lock:
                if self._db is None:
                    self._db = self._open_index()
                cursor = self._db.cursor()
        except BaseException:
            self._gate.release_read(token)
            raise
        return ReadConnection(cursor, self._gate, token)

    def _query(self, sql: str, params: list[Any] | tuple = ()) -> list[tuple]:
        with self.connect() as con:
            return con.execute(sql, params).fetchall()

    def _records_in(self, paths: list[str]) -> dict[str, EntityRecord]:
        if not self.index_path.exists():
            return {}
        if len(paths) == 1:
            rows = self._query(f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE path = ?", paths)
        else:
            rows = self._query(f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE path IN "
                               "(SELECT unnest(?))", [paths])
        return {record.ref: record for record in map(_record, rows)}

    def records(self, refs: Iterable[str]) -> list[EntityRecord]:
        """The index rows of the given refs (those that exist)."""
        wanted = sorted(set(refs))
        if not wanted:
            return []
        rows = self._query(f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE ref IN "
                           "(SELECT unnest(?))", [wanted])
        return [_record(row) for row in rows]

    def record(self, kind: str, name: str, namespace: str | None = None) -> EntityRecord | None:
        """One entity's index row (kind case-insensitive), or None."""
        ref = make_ref(kind, namespace or DEFAULT_NAMESPACE, name)
        cached = self._cache.get(ref)
        if cached is not None:
            return cached
        with self.connect() as con:  # filled under the read gate: an update clears it after
            rows = con.execute(f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE ref = ?",
                               [ref]).fetchall()
            found = _record(rows[0]) if rows else None
            if found is not None:
                if len(self._cache) >= RECORD_CACHE_SIZE:
                    self._cache.clear()
                self._cache[ref] = found
        return found

    def entity(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """One entity as the API shows it, or None."""
        found = self.record(kind, name, namespace)
        return found.as_json() if found else None

    def entities(self, namespace: str | None = None, owner: str | None = None,
                 tag: str | None = None, kind: str | None = None, *,
                 limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Entities matching every given filter, ordered by kind, namespace and name."""
        clauses, params = [], []
        for column, value in (("namespace", namespace), ("owner", owner)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if kind is not None:
            clauses.append("lower(kind) = lower(?)")
            params.append(kind)
        if tag is not None:
            clauses.append("list_contains(tags, ?)")
            params.append(tag)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        page = ""
        if limit is not None:
            page = " LIMIT ? OFFSET ?"
            params += [limit, offset]
        rows = self._query(f"SELECT {_ENTITY_COLUMNS} FROM entities {where} "
                           f"ORDER BY lower(kind), namespace, name{page}", params)
        return [_record(row).as_json() for row in rows]

    def actions(self) -> list[dict[str, Any]]:
        """Every Action entity as the API shows it."""
        return self.entities(kind="Action")

    def known_refs(self) -> set[str]:
        """The ref of every entity in the index (what references may point at)."""
        return {row[0] for row in self._query("SELECT ref FROM entities")}

    def refs_view(self, extra: Iterable[str] = ()) -> IndexRefs:
        """The index's refs (plus `extra`) as a collection that looks refs up one by one:
        checking a new entity's few references costs a few queries, not every ref."""
        return IndexRefs(self, set(extra))

    def referrers(self, ref: str) -> list[str]:
        """Refs of the entities whose relations point at `ref` (itself excluded)."""
        rows = self._query("SELECT DISTINCT source FROM relations WHERE target = ? AND "
                           "source <> ? ORDER BY source", [ref, ref])
        return [row[0] for row in rows]

    # --- teams ---------------------------------------------------------------------------------

    def _load_teams(self) -> None:
        rows = self._query("SELECT name, json_extract(data, '$.spec.members') FROM entities "
                           "WHERE lower(kind) = 'team'")
        members: dict[str, list[str]] = {}
        teams: dict[str, set[str]] = {}
        for team, raw in rows:
            listed = json.loads(raw) if isinstance(raw, str) else raw
            names = [m["name"] for m in listed or [] if isinstance(m, dict)
                     and isinstance(m.get("name"), str)]
            members.setdefault(team, [])
            for name in names:
                if name not in members[team]:
                    members[team].append(name)
                teams.setdefault(name, set()).add(team)
        self._members, self._teams = members, teams

    def teams_of(self, username: str) -> set[str]:
        """Names of the Team entities that list `username` in `spec.members`."""
        return set(self._teams.get(username, ()))

    def team_members(self, team: str) -> list[str]:
        """Member names of the Team entity `team` (any namespace), [] when unknown."""
        return list(self._members.get(team, ()))
