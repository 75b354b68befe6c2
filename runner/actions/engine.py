"""The actions engine: runs executors off the request path and keeps every run in the store.

A fixed pool of worker threads takes steps from a queue; a single timer thread holds the runs
that wait between steps (a GitHub run being followed, a webhook in backoff) in a heap and
hands each back to the queue when it is due. So the number of threads stays the same whether
two runs or two hundred are in flight.

Every status change is written to the store first and then published on the event bus as
`action.run.created` / `action.run.updated`. At start the engine picks up the runs that were
in flight: queued runs start, interrupted ones go to their executor's `resume`, which either
continues (a GitHub run is followed again by its id) or fails the run with an explicit error.

Secrets of a run — the values of its secret inputs (see `inputs.secret_names`) and every value
an executor resolves — go through `runner.redact` before they are stored in plain columns
(inputs, outputs, error), published, audited or logged; `public_run` redacts once more on the
way out, so every reader sees a run the same way. The exact inputs are kept only sealed.
`${NAME}` placeholders resolve through the engine's `Placeholders` (GANTRY_ACTION_ENV).

A run acts with its requester's rights: `submit` records the requester's effective role (an
API key may hold less than its owner), and each run's context carries `requester_role`, that
role capped by the one the requester's account holds when the run executes (`role_of`), or
None when the account no longer exists. `runner.app.create_app` builds the engine with every
collaborator: the store, the sealer, the bus's `publish`, the workspace, the plugin settings,
the placeholders and the account lookup.

Runs are leased (see `runner.store.runs`): the process that creates, approves or takes over
a run holds it under its `owner` name until `lease_until`, and every write about the run is
conditional on still holding it. On a store one process owns (SQLite) the engine takes every
in-flight run at start, as before. On a shared store (PostgreSQL, several replicas) a
heartbeat thread renews this process's leases every third of `lease_seconds` and takes over
the runs whose lease ran out (a replica that died mid-run), resuming them exactly as a
restart does; a process that loses a run (its lease expired while it was stalled) stops
writing for it, so no run is driven by two processes.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from runner.auth.roles import lower_of
from runner.errors import StatusError
from runner.redact import redact, secret_inputs
from runner.store import audit, runs
from runner.store.db import Store, now_iso

from .checks import action_config, action_type
from .executors import executor_for
from .executors.base import Done, Failed, RunContext, Step, Wait
from .inputs import secret_names
from .permissions import requires_approval
from .placeholders import Placeholders

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8
DEFAULT_LEASE_SECONDS = 30.0
MAX_WAIT_SECONDS = 3600.0
"""Longest single wait an executor may ask for; longer asks are shortened to this."""


class NotAwaitingApproval(StatusError):
    """The run is not (or no longer) waiting for a decision: a conflict (409)."""

    status = 409

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} was decided meanwhile")


class Sealer:
    """Encrypts the exact inputs kept for execution (the shown ones are redacted)."""

    def __init__(self, encrypt: Callable[[str], str], decrypt: Callable[[str], str]):
        self.encrypt = encrypt
        self.decrypt = decrypt


class Engine:
    """Creates runs, executes them with a bounded pool and records every change."""

    def __init__(
        self,
        store: Store,
        sealer: Sealer,
        *,
        publish: Callable[[str, dict[str, Any]], None] | None = None,
        workspace: Any = None,
        plugin_config: Callable[[str], dict[str, Any]] | None = None,
        workers: int = DEFAULT_WORKERS,
        placeholders: Placeholders | None = None,
        role_of: Callable[[str], str | None] | None = None,
        owner: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        shared: bool | None = None,
    ) -> None:
        self.store = store
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.lease_seconds = lease_seconds
        self._shared = bool(getattr(store, "shared", False)) if shared is None else shared
        """Other processes use the store too (replicas, or workers): runs are leased."""
        self._heartbeat_stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.sealer = sealer
        self.workspace = workspace
        self.placeholders = placeholders or Placeholders()
        self._publish = publish or (lambda _type, _payload: None)
        self._plugin_config = plugin_config or (lambda _name: {})
        self._role_of = role_of or (lambda _username: None)
        self._worker_count = workers
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_cond = threading.Condition()
        self._sequence = itertools.count()
        self._contexts: dict[str, RunContext] = {}
        self._contexts_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Pick up the runs that were in flight. Threads start with the first work, so an app
        that never runs an action (a test, a read-only replica) costs no threads. On a shared
        store one heartbeat thread also runs, renewing leases and taking over expired runs."""
        self._recover()
        if self._shared and self._heartbeat is None:
            self._heartbeat = threading.Thread(target=self._beat, name="gantry-run-heartbeat",
                                               daemon=True)
            self._heartbeat.start()

    def _ensure_threads(self) -> None:
        with self._threads_lock:
            if self._threads or self._stopping:
                return
            for number in range(self._worker_count):
                thread = threading.Thread(
                    target=self._work, name=f"gantry-action-worker-{number}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
            timer = threading.Thread(target=self._tick, name="gantry-action-timer", daemon=True)
            timer.start()
            self._threads.append(timer)

    def _enqueue(self, run_id: str, kind: str) -> None:
        self._ensure_threads()
        self._queue.put((run_id, kind))

    def stop(self) -> None:
        """Stop taking steps (runs in flight are picked up again at the next start, or by
        another replica once their lease runs out)."""
        self._stopping = True
        self._heartbeat_stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
            self._heartbeat = None
        with self._timer_cond:
            self._timer_cond.notify_all()
        with self._threads_lock:
            threads, self._threads = self._threads, []
        for _ in range(self._worker_count):
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=5)

    @property
    def thread_count(self) -> int:
        """Threads the engine runs (workers plus the timer), however many runs are in flight."""
        return sum(1 for thread in self._threads if thread.is_alive())

    def _lease(self) -> float:
        return time.time() + self.lease_seconds

    def _recover(self) -> None:
        taken = runs.take_over(self.store, self.owner, self._lease(), time.time(),
                               own_too=True, everything=not self._shared)
        for run in taken:
            self._pick_up(run)

    def _beat(self) -> None:
        """Renew this process's leases and take over runs whose holder stopped renewing."""
        interval = self.lease_seconds / 3
        while not self._heartbeat_stop.wait(interval):
            try:
                runs.renew(self.store, self.owner, self._lease())
                for run in runs.take_over(self.store, self.owner, self._lease(), time.time()):
                    log.info("taking over run %s of %s (its lease ran out)", run["id"],
                             run["action_name"])
                    self._pick_up(run)
            except Exception:  # a database hiccup must not end the heartbeat
                log.exception("the run heartbeat failed; retrying")

    def _pick_up(self, run: dict[str, Any]) -> None:
        """Continue a run this process just took: start it, or resume it as after a restart."""
        with self._contexts_lock:
            self._contexts.pop(run["id"], None)
        if run["phase"] == "queued":
            self._enqueue(run["id"], "start")
            return
        due = run["next_step_at"] if run["phase"] == "waiting" else None
        log.info("resuming run %s of %s after a restart", run["id"], run["action_name"])
        self._schedule(run["id"], "resume", max(0.0, (due or 0.0) - time.time()))

    # -- requests from the API ---------------------------------------------------------------

    def submit(self, action: dict[str, Any], inputs: dict[str, Any], triggered_by: str,
               triggered_by_email: str | None = None, *,
               triggered_by_role: str | None = None) -> dict:
        """Create a run of a checked action with validated inputs; queue it unless it needs
        an approval. Returns the run in the API's shape. `triggered_by_role` is the caller's
        effective role (the API key's when it is lower than its owner's)."""
        run_id = str(uuid.uuid4())
        name = str((action.get("metadata") or {}).get("name", ""))
        approval = requires_approval(action)
        keys = secret_names(action)
        runs.create(
            self.store,
            run_id=run_id,
            action_name=name,
            action=action,
            status="pending",
            phase="approval" if approval else "queued",
            inputs=redact(inputs, secret_inputs(inputs, keys), keys),
            inputs_sealed=self.sealer.encrypt(json.dumps(inputs)),
            triggered_by=triggered_by,
            triggered_by_email=triggered_by_email,
            triggered_by_role=triggered_by_role,
            started_at=now_iso(),
            owner=self.owner,
            lease_until=self._lease(),
        )
        run = self._announce(run_id, "action.run.created")
        if not approval:
            self._enqueue(run_id, "start")
        return run

    def decide(self, run_id: str, user: str, approve: bool, reason: str | None) -> dict:
        """Record an approval or a rejection; the first decision wins, later ones raise
        `NotAwaitingApproval`. An approval queues the run; a rejection fails it."""
        run = runs.get(self.store, run_id)
        if run is None or run["phase"] != "approval":
            raise NotAwaitingApproval(run_id)
        decision = {
            "user": user,
            "decision": "approved" if approve else "rejected",
            "reason": reason or "",
            "at": now_iso(),
        }
        approvals = [*run["approvals"], decision]
        if approve:
            changed = runs.update(
                self.store, run_id, only_if_phase=("approval",), phase="queued",
                approvals=approvals, owner=self.owner, lease_until=self._lease(),
            )
        else:
            error = f"rejected by {user}" + (f": {reason}" if reason else "")
            changed = runs.update(
                self.store, run_id, only_if_phase=("approval",), phase="done", status="failed",
                error=error, completed_at=now_iso(), approvals=approvals,
            )
        if not changed:
            raise NotAwaitingApproval(run_id)
        published = self._announce(run_id, "action.run.updated")
        if approve:
            self._enqueue(run_id, "start")
        return published

    # -- execution ---------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stopping:
                return
            run_id, kind = item
            try:
                self._step(run_id, kind)
            except Exception:  # a worker must survive anything a run does
                log.exception("run %s: the engine failed to take a step", run_id)
                self._fail_quietly(run_id, "the runner failed while executing this run")

    def _step(self, run_id: str, kind: str) -> None:
        run = runs.get(self.store, run_id)
        if run is None or run["phase"] in ("done", "approval"):
            return
        if run.get("owner") not in (None, self.owner):
            self._drop(run_id)
            return
        try:
            ctx = self._context(run)
        except Exception:
            log.exception("run %s: its stored inputs cannot be read", run_id)
            self._finish(run_id, RunContext(run_id, run["action_name"], {}, {}, {}, "",
                                            secrets=self._sealed_secrets(run)), Failed(
                "the run's stored inputs cannot be decrypted (was GANTRY_SECRET_KEY changed?)"
            ))
            return
        executor = executor_for(action_type(run["action"]))
        if executor is None:
            self._finish(run_id, ctx, Failed(
                f"no executor for type {action_type(run['action'])!r} is available on this runner"
            ))
            return
        if kind == "start":
            if not runs.update(self.store, run_id, only_if_phase=("queued",),
                               only_if_owner=self.owner, status="running", phase="executing"):
                return
            self._announce(run_id, "action.run.updated")
            call = executor.start
        else:
            if not runs.update(self.store, run_id, only_if_owner=self.owner, phase="executing",
                               status="running"):
                self._drop(run_id)
                return
            call = executor.poll if kind == "poll" else executor.resume
        try:
            step = call(ctx)
        except Exception as exc:
            log.error("run %s: executor %s raised %s: %s", run_id, executor.type,
                      type(exc).__name__, redact(str(exc), ctx.secrets))
            step = Failed(f"the {executor.type} executor failed unexpectedly "
                          f"({type(exc).__name__}); see the runner log")
        self._after(run_id, ctx, step)

    def _after(self, run_id: str, ctx: RunContext, step: Step) -> None:
        if isinstance(step, Wait):
            seconds = min(max(float(step.seconds), 0.0), MAX_WAIT_SECONDS)
            if not runs.update(self.store, run_id, only_if_owner=self.owner, phase="waiting",
                               state=ctx.state, next_step_at=time.time() + seconds):
                self._drop(run_id)
                return
            self._schedule(run_id, "poll", seconds)
            return
        if not isinstance(step, Done | Failed):
            step = Failed(f"the executor answered {type(step).__name__}, not a step")
        self._finish(run_id, ctx, step)

    def _finish(self, run_id: str, ctx: RunContext, step: Done | Failed) -> None:
        outputs = redact(step.outputs, ctx.secrets)
        error = redact(step.error, ctx.secrets) if isinstance(step, Failed) else None
        held = runs.update(
            self.store, run_id, only_if_owner=self.owner,
            status="success" if isinstance(step, Done) else "failed",
            phase="done", outputs=outputs, error=error, state=ctx.state,
            completed_at=now_iso(), next_step_at=None,
        )
        with self._contexts_lock:
            self._contexts.pop(run_id, None)
        if not held:
            log.warning("run %s: another runner holds it now; its result here is dropped",
                        run_id)
            return
        run = self._announce(run_id, "action.run.updated")
        log.info("run %s of %s ended %s%s", run_id, run["actionName"], run["status"],
                 f": {error}" if error else "")

    def _drop(self, run_id: str) -> None:
        """Forget a run another process holds now (its lease ran out here)."""
        log.warning("run %s is held by another runner now; this one stops driving it", run_id)
        with self._contexts_lock:
            self._contexts.pop(run_id, None)

    def _fail_quietly(self, run_id: str, error: str) -> None:
        try:
            ctx = self._contexts.get(run_id)
            if ctx is None:
                run = runs.get(self.store, run_id)
                ctx = RunContext(run_id, "", {}, {}, {}, "",
                                 secrets=self._sealed_secrets(run) if run else [])
            self._finish(run_id, ctx, Failed(error))
        except Exception:
            log.exception("run %s could not be marked failed", run_id)

    def _context(self, run: dict[str, Any]) -> RunContext:
        with self._contexts_lock:
            ctx = self._contexts.get(run["id"])
            if ctx is None:
                inputs = json.loads(self.sealer.decrypt(run["inputs_sealed"]))
                ctx = RunContext(
                    run_id=run["id"],
                    action_name=run["action_name"],
                    action=run["action"],
                    config=action_config(run["action"]),
                    inputs=inputs,
                    triggered_by=run["triggered_by"],
                    plugin_config=self._plugin_config,
                    workspace=self.workspace,
                    state=dict(run["state"]),
                    triggered_by_email=run["triggered_by_email"],
                    secrets=secret_inputs(inputs, secret_names(run["action"])),
                    placeholders=self.placeholders,
                    requester_role=self.requester_role(run),
                )
                ctx.audit = self._auditor(run, ctx)
                self._contexts[run["id"]] = ctx
            return ctx

    def requester_role(self, run: dict[str, Any]) -> str | None:
        """The role a run acts with: the one recorded when it was requested, never more than
        the requester's account holds now; None when the account no longer exists."""
        current = self._role_of(run["triggered_by"])
        if current is None:
            return None
        asked = run.get("triggered_by_role")
        return current if asked is None else lower_of(asked, current)

    def _auditor(self, run: dict[str, Any], ctx: RunContext) -> Callable[..., None]:
        def record(**entry: Any) -> None:
            shown = {key: redact(value, ctx.secrets) for key, value in entry.items()}
            audit.record(self.store, user=run["triggered_by"],
                         source=f"action:{run['action_name']}", **shown)

        return record

    # -- timer -------------------------------------------------------------------------------

    def _schedule(self, run_id: str, kind: str, seconds: float) -> None:
        self._ensure_threads()
        with self._timer_cond:
            heapq.heappush(
                self._timers, (time.monotonic() + seconds, next(self._sequence), run_id, kind)
            )
            self._timer_cond.notify()

    def _tick(self) -> None:
        with self._timer_cond:
            while not self._stopping:
                if not self._timers:
                    self._timer_cond.wait()
                    continue
                due = self._timers[0][0] - time.monotonic()
                if due > 0:
                    self._timer_cond.wait(due)
                    continue
                _, _, run_id, kind = heapq.heappop(self._timers)
                self._queue.put((run_id, kind))

    # -- publishing --------------------------------------------------------------------------

    def _sealed_secrets(self, run: dict[str, Any]) -> list[str]:
        return sealed_secrets(run, self.sealer.decrypt)

    def shown(self, run: dict[str, Any]) -> dict[str, Any]:
        """A stored run as every reader sees it (see `public_run`)."""
        return public_run(run, self.sealer.decrypt)

    def _announce(self, run_id: str, event: str) -> dict:
        run = runs.get(self.store, run_id)
        shown = self.shown(run) if run else {"id": run_id}
        try:
            self._publish(event, shown)
        except Exception:  # subscribers must never break a run
            log.exception("publishing %s failed", event)
        return shown


def sealed_secrets(run: dict[str, Any], decrypt: Callable[[str], str]) -> list[str]:
    """The values of a stored run's secret inputs, from its sealed inputs ([] when they cannot
    be read: the plain columns were redacted when written)."""
    try:
        inputs = json.loads(decrypt(run["inputs_sealed"]))
    except Exception:  # a changed GANTRY_SECRET_KEY or a damaged row: nothing to add
        return []
    if not isinstance(inputs, dict):
        return []
    return secret_inputs(inputs, secret_names(run["action"]))


def public_run(run: dict[str, Any], decrypt: Callable[[str], str]) -> dict[str, Any]:
    """A stored run in the API's shape, redacted with its secret inputs' values.

    Used for every way out (API answers, WebSocket events, audit): what was stored is already
    redacted, and this second pass also covers runs stored before a rule existed. Declared
    secret input names are redacted by key inside `inputs` only, where they are input names.
    """
    values = sealed_secrets(run, decrypt)
    shown = redact(runs.public(run), values)
    shown["inputs"] = redact(shown["inputs"], values, secret_names(run["action"]))
    return shown
