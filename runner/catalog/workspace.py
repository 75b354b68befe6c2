"""The runner's view of the catalog: the working tree, its own index and site, the write lock.

The catalog in Git is the truth; the runner keeps a DuckDB index and a static site of it
under `GANTRY_DATA_DIR` and brings both up to date at start and after every write or pull.

DuckDB lets one process hold a database file, and inside that process every connection to
the same file must use the same mode. The workspace keeps one long-lived read-write
connection (opened by `index.open_or_rebuild`): request reads are cursors of it (tens of
microseconds each, against a warm cache), and the incremental index update opens its own
connection to the same file, which DuckDB attaches to the same database instance. The gate
(`gate.Gate`) keeps reads out during an update so the in-memory record cache is never
refilled with a row the update is replacing. The site (`site.SiteRenderer`) is rendered
from a copy of the index and its write-ahead log, so its read-only connections never meet
the read-write one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from generator.index.build import build_index, wal_of
from generator.index.schema import IndexUnusable, first_line
from generator.load import YAML_SUFFIXES
from generator.site.config import GantryYamlError, load_config, locate_config
from generator.structure.entity import DEFAULT_NAMESPACE, make_ref
from generator.structure.kinds import SchemaRegistry

from .. import events
from .gate import Gate, ReadConnection
from .git import CatalogRepo, find_work_tree
from .index import WorkspaceError, open_or_rebuild, remove_leftover_builds, set_aside
from .records import ENTITY_COLUMNS, EntityRecord, differs, record_of
from .site import SiteOfAnotherWorker, SiteRenderer
from .workers import RefState, WorkerSlot, WriteLock

log = logging.getLogger(__name__)

DUCKDB_MAGIC = b"DUCK"
"""Bytes 8-11 of every DuckDB database file."""

MAX_LOGGED_PROBLEMS = 50
WRITE_LOCK_NAME = "gantry-write.lock"
"""The file in the Git directory whose `flock` serialises writes across worker processes."""
RETRY_AFTER_SECONDS = 2
"""What a request answered 503 while the index is brought up is told to wait."""
RECORD_CACHE_SIZE = 20_000
"""Entities kept parsed in memory for GET; the cache empties whenever the index changes."""

__all__ = ["IndexRefs", "Workspace", "WorkspaceError"]


def _copy_whole(source: Path, target: Path) -> None:
    """Copy a closed index file so that `target` is the old file or the whole new one."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


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

    site_renderer: type[SiteRenderer] = SiteRenderer
    """What renders the site (a subclass may render nothing, for tests of the index)."""

    def __init__(self, settings: Any, bus: events.EventBus | None = None,
                 slot: WorkerSlot | None = None) -> None:
        self.settings = settings
        self.bus = bus or events.EventBus()
        self.slot = slot
        """This process's slot among several workers sharing the clone (None: the only one)."""
        self.catalog_root = Path(settings.catalog).resolve()
        data_dir = Path(settings.data_dir).resolve()
        self.index_path = data_dir / "index" / "catalog.duckdb"
        if slot is not None and not slot.leader:  # DuckDB: one process per database file
            self.index_path = data_dir / "index" / f"worker-{slot.number}" / "catalog.duckdb"
        self.shared_seed = data_dir / "index" / "seed.duckdb"
        """Where the first worker leaves a copy of a fully built index for the others."""
        self.registry = SchemaRegistry()
        self.problems: list[Any] = []
        work_tree, reason = find_work_tree(self.catalog_root)
        if work_tree is not None and not self.catalog_root.is_relative_to(work_tree):
            work_tree, reason = None, "the catalog is not inside the Git working tree"
        self.repo_root: Path | None = work_tree
        self.repo: CatalogRepo | None = CatalogRepo(work_tree) if work_tree else None
        self.lock = WriteLock(self.repo.git_dir / WRITE_LOCK_NAME
                              if slot is not None and self.repo is not None else None)
        """Held for every change of the clone and the index: by one thread of one process."""
        self.read_only = work_tree is None
        self.read_only_reason = reason
        self._gate = Gate()
        self._open_lock = threading.Lock()
        self._db: duckdb.DuckDBPyConnection | None = None
        self._cache: dict[str, EntityRecord] = {}
        self._teams: dict[str, set[str]] = {}
        self._members: dict[str, list[str]] = {}
        self._generation = 0
        """Index update counter: odd while an update runs (the site snapshot reads it)."""
        renderer = self.site_renderer if slot is None or slot.leader else SiteOfAnotherWorker
        self.site = renderer(self.index_path, self.catalog_root,
                                       data_dir / "site", config=self.site_config,
                                       gate=self._gate, generation=lambda: self._generation)
        self.config_problem: str | None = None
        """Why gantry.yaml is not used (the site then has default settings), or None."""
        self.started = False
        self.index_open = False
        """Whether requests may read the index (set once `start` has brought it up)."""
        self.warming: dict[str, str] = {"index": "not started"}
        """What is still being brought up, by part, for `/readyz`."""
        self._followed_indexed: str | None = None
        self._followed_head: str | None = None
        """The index's commit and HEAD when `follow_head` last looked (commits that touch
        no catalog file leave the index's commit behind HEAD)."""
        self._refs = RefState(self.repo.git_dir) \
            if slot is not None and self.repo is not None else None
        self._followed: tuple = ()
        """`RefState` of the clone when `follow_head` last looked."""
        self.sync: Any = None
        """The `ReplicaSync` pushing writes to `origin` when replicas share the catalog."""

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
        path = locate_config(self.catalog_root)
        try:
            loaded = load_config(path, path.name)
        except GantryYamlError as exc:
            problem = f"{path.name} cannot be used, the site is built with default " \
                      f"settings until it is fixed: {exc}"
            if problem != self.config_problem:
                log.warning("%s", problem)
            self.config_problem = problem
            return {}
        self.config_problem = None
        return loaded

    @property
    def site_dir(self) -> Path:
        """Where the served site is rendered."""
        return self.site.site_dir

    # --- start and refresh ------------------------------------------------------------------

    def start(self, *, site_in_background: bool = False) -> None:
        """Bring the index up to date and open it, then render the site.

        The index comes first, and fast when one exists: `_prepare_index` re-reads only
        the files that differ from it. From then on the API serves. The site is rendered
        next: here, or with `site_in_background` by the site worker from a snapshot while
        the API serves (`/readyz` lists it under `warming`), followed by a validation of
        the whole catalog for the log when the index did not need one. Problems in the
        catalog do not stop the runner: they are logged, and the index holds every entity
        that could be read (the first of duplicates).
        """
        from generator.index.graph import warm as warm_graph
        from generator.index.search import warm as warm_search

        if not self.catalog_root.is_dir():
            raise WorkspaceError(f"catalog folder not found: {self.catalog_root} "
                                 "(set GANTRY_CATALOG)")
        if self.read_only:
            log.warning("the runner is read-only: %s", self.read_only_reason)
        self.warming = {"index": "bringing the index up to date",
                        "site": "waiting for the index"}
        with self.lock, self._gate.exclusive():
            self._close_db()
            if self.repo is not None:
                self.repo.recover_interrupted_commits()
            site_refs, validated = self._prepare_index()
        if not site_in_background:  # from the index itself, before this process opens it
            token = self._gate.acquire_read()
            try:
                self.site.build(site_refs)
            finally:
                self._gate.release_read(token)
            del self.warming["site"]
        self.index_open = True
        with self.connect() as con:  # so the first search and graph do not pay the load
            warm_search(con)
            warm_graph(con)
        self._load_teams()
        self.started = True
        del self.warming["index"]
        if not site_in_background:
            if not validated:
                self._validate()
            return
        self.warming["site"] = "rendering the site"
        self.site.queue_all()
        if not validated:
            self.warming["validation"] = "waiting for the site"

    def finish_warming(self, timeout: float | None = None) -> None:
        """After a start with the site in the background: wait for the site, then validate
        the whole catalog for the log (what the index could not read is already logged)."""
        self.site.wait_built(timeout)
        self.warming.pop("site", None)
        if "validation" in self.warming:
            self.warming["validation"] = "validating the catalog"
            self._validate()
            del self.warming["validation"]

    def _validate(self) -> Any:
        from generator.validate import validate_catalog

        validation = validate_catalog(self.catalog_root, registry=self.registry,
                                      display_root=self.display_root())
        self.problems = list(validation.problems)
        self._log_problems()
        return validation

    def _prepare_index(self) -> tuple[set[str] | None, bool]:
        """Bring the index to the catalog as it is now (gate held exclusively).

        An index of this runner's own, or else a copy of `GANTRY_INDEX_SEED`, is caught up
        by re-reading the files that differ (`generator.index.reuse`); otherwise the catalog
        is validated and the index built from that one reading. Returns the refs whose pages
        need rendering (None: a full site build, which returns at once when nothing
        changed) and whether the catalog was validated.
        """
        from generator.index.reuse import catch_up

        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftover_builds(self.index_path.parent, self.index_path.name)
        if self.index_path.exists() or wal_of(self.index_path).exists():
            with self._open_lock:  # a stop's log folded in, or a broken index rebuilt
                self._open_index().close()
        else:
            self._seed_index()
        has_site = (self.site_dir / "index.html").is_file()
        caught = catch_up(self.index_path, self.catalog_root) \
            if self.index_path.is_file() else None
        if caught is not None:
            log.info("index: caught up by re-reading %d file(s) (%d hashed again), %d "
                     "entities changed", len(caught.files), caught.rehashed,
                     len(caught.changed_refs))
            return (caught.changed_refs if caught.changed_refs and has_site else None), False
        validation = self._validate()
        try:
            stats = build_index(self.catalog_root, self.index_path, validation=validation)
        except (duckdb.Error, IndexUnusable) as exc:
            log.warning("index: the build failed (%s); building it again from scratch",
                        first_line(exc))
            set_aside(self.index_path)
            stats = build_index(self.catalog_root, self.index_path, validation=validation)
        for note in stats.notes:
            log.info("index: %s", note)
        log.info("index: %d entities, %d relations (%.2fs%s)", stats.entities,
                 stats.relations, stats.seconds, ", unchanged" if stats.unchanged else "")
        if self.slot is not None:  # the next worker to start catches up a copy instead
            _copy_whole(self.index_path, self.shared_seed)
        return (stats.changed_refs if stats.changed_refs and has_site else None), True

    def _seed_index(self) -> None:
        """Start from a copy of `GANTRY_INDEX_SEED` when this runner has no index yet; the
        copy is used only if `catch_up` accepts it (same versions, an ancestor commit)."""
        seed = getattr(self.settings, "index_seed", None)
        if self.slot is not None and self.shared_seed.is_file():
            seed = self.shared_seed
        if seed is None:
            return
        if not Path(seed).is_file():
            log.warning("GANTRY_INDEX_SEED: %s is not a file; the index is built from the "
                        "catalog", seed)
            return
        _copy_whole(Path(seed), self.index_path)
        log.info("index: starting from a copy of %s", seed)

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

    def config_changed(self) -> None:
        """Re-render the site after gantry.yaml changed.

        Any queued ref will do: the site builder sees the new settings and widens the
        build to every page (the dashboard and quick links are on all of them).
        """
        refs = sorted(self.known_refs())[:1]
        self.site.queue(set(refs))

    def stop(self, timeout: float = 10.0) -> None:
        """End the site worker (at shutdown); a build under way is stopped."""
        self.site.stop(timeout)

    def wait_for_site(self, timeout: float = 60.0) -> bool:
        """Block until every queued page is rendered; False on timeout."""
        return self.site.wait(timeout)

    def refresh(self, changed_paths: Iterable[str], *, publish: bool = True) -> set[str]:
        """Re-read the given catalog files (relative posix paths, deleted ones included).

        Updates the index, rebuilds the affected site pages and publishes
        `entity.created|updated|deleted` events (not with `publish=False`: changes pulled
        from another replica, which published them already). Returns the refs whose index
        rows changed.
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
                        if differs(before.get(ref), after.get(ref))}
            self.site.queue(changed or self._docs_refs(paths))
            if any(ref.startswith("team:") for ref in before.keys() | after.keys()):
                self._load_teams()  # memberships live in Team entities' own rows
        if publish:
            self._publish(before, after)
        return changed

    def follow_if_moved(self) -> None:
        """`follow_head` when a branch moved since it last ran (a few stats when not)."""
        if self._refs is not None and self.index_open and \
                self._refs.current() != self._followed:
            self.follow_head()

    def follow_head(self) -> list[str]:
        """Re-read the catalog files that commits since the index's own commit changed:
        another worker's writes, or a pull. Events for them were published where they
        were made. Returns the files re-read."""
        if self.slot is None or self.repo is None or not self.index_open:
            return []
        with self.lock:
            seen = self._refs.current() if self._refs is not None else ()
            head = self.repo.head()
            rows = self._query("SELECT value FROM meta WHERE key = 'git_commit'")
            indexed = rows[0][0] if rows else ""
            changed: list[str] = []
            if head and indexed and indexed != head:
                base = self._followed_head if self._followed_indexed == indexed else indexed
                if base and base != head:
                    changed = self.take_changes(self.repo.changed_paths(base, head))
            self._followed_indexed, self._followed_head = indexed, head
            self._followed = seen  # only now: a request meanwhile waits for this lock
            return changed

    def take_changes(self, touched: list[str]) -> list[str]:
        """Re-read what commits made elsewhere (another worker, another replica) changed:
        `touched` are repository-relative paths; the catalog files among them go to the
        index without events (they were published where the change was made) and a changed
        gantry.yaml re-renders the site. Returns the catalog files re-read."""
        root = self.display_root()
        prefix = "" if root == "." else root + "/"
        changed = sorted(path[len(prefix):] for path in touched if path.startswith(prefix))
        if changed:
            self.refresh(changed, publish=False)
        config = locate_config(self.catalog_root)
        if self.repo_root is not None and config.is_relative_to(self.repo_root) and \
                config.relative_to(self.repo_root).as_posix() in touched:
            self.config_changed()
        return changed

    def _docs_refs(self, paths: list[str]) -> set[str]:
        """Any one ref when only files besides catalog YAML changed (docs pulled in): the
        site build then re-renders just the docs folders whose content hash changed."""
        if all(path.endswith(YAML_SUFFIXES) for path in paths):
            return set()
        return set(sorted(self.known_refs())[:1])

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
                self.bus.publish("entity.deleted", old.as_json())
            elif new is not None and old is None:
                self.bus.publish("entity.created", new.as_json())
            elif differs(old, new):
                self.bus.publish("entity.updated", new.as_json())

    # --- reading ------------------------------------------------------------------------------

    def _close_db(self) -> None:
        """Drop the connection and the record cache (called with the gate exclusive)."""
        self._cache.clear()
        with self._open_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _open_index(self, validation: Any = None) -> duckdb.DuckDBPyConnection:
        """Open the index read-write (`open_or_rebuild`; `_open_lock` held).

        While a broken index is rebuilt the update counter is odd, so the site snapshot
        does not copy a half-written file.
        """
        def rebuild() -> None:
            self._cache.clear()
            bumped = self._generation % 2 == 0
            if bumped:
                self._generation += 1
            try:
                build_index(self.catalog_root, self.index_path, validation=validation)
            finally:
                if bumped:
                    self._generation += 1

        return open_or_rebuild(self.index_path, rebuild)

    def connect(self) -> ReadConnection:
        """A connection for reading the index; close it when done (or use `with`).

        Use it for queries only: changes go through `refresh`. Raises WorkspaceError
        (503, with Retry-After) while the index is still being brought up at start.
        """
        self.check_ready()
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

    def check_ready(self) -> None:
        """Raise WorkspaceError (503) while the index is still being brought up at start."""
        if not self.index_open:
            step = self.warming.get("index", "starting")
            raise WorkspaceError(f"the runner is starting ({step}); try again in a few "
                                 "seconds", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    def index_problem(self) -> str | None:
        """Why the index cannot be read now (for `/readyz`), or None when it can."""
        try:
            with open(self.index_path, "rb") as handle:
                header = handle.read(12)
        except OSError as exc:
            return f"index cannot be read: {exc}"
        if header[8:12] != DUCKDB_MAGIC:
            return f"index {self.index_path} is not a DuckDB database"
        try:
            self._query("SELECT count(*) FROM entities")
        except Exception as exc:  # any failure to read the index means not ready
            log.warning("index not readable: %s", exc)
            return f"index cannot be read: {exc}"
        return None

    def _query(self, sql: str, params: list[Any] | tuple = ()) -> list[tuple]:
        with self.connect() as con:
            return con.execute(sql, params).fetchall()

    def _records_in(self, paths: list[str]) -> dict[str, EntityRecord]:
        if not self.index_path.exists():
            return {}
        if len(paths) == 1:
            rows = self._query(f"SELECT {ENTITY_COLUMNS} FROM entities WHERE path = ?", paths)
        else:
            rows = self._query(f"SELECT {ENTITY_COLUMNS} FROM entities WHERE path IN "
                               "(SELECT unnest(?))", [paths])
        return {record.ref: record for record in map(record_of, rows)}

    def records(self, refs: Iterable[str]) -> list[EntityRecord]:
        """The index rows of the given refs (those that exist)."""
        wanted = sorted(set(refs))
        if not wanted:
            return []
        rows = self._query(f"SELECT {ENTITY_COLUMNS} FROM entities WHERE ref IN "
                           "(SELECT unnest(?))", [wanted])
        return [record_of(row) for row in rows]

    def record(self, kind: str, name: str, namespace: str | None = None) -> EntityRecord | None:
        """One entity's index row (kind case-insensitive), or None."""
        ref = make_ref(kind, namespace or DEFAULT_NAMESPACE, name)
        cached = self._cache.get(ref)
        if cached is not None:
            return cached
        with self.connect() as con:  # filled under the read gate: an update clears it after
            rows = con.execute(f"SELECT {ENTITY_COLUMNS} FROM entities WHERE ref = ?",
                               [ref]).fetchall()
            found = record_of(rows[0]) if rows else None
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
        rows = self._query(f"SELECT {ENTITY_COLUMNS} FROM entities {where} "
                           f"ORDER BY lower(kind), namespace, name{page}", params)
        return [record_of(row).as_json() for row in rows]

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
