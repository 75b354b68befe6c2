"""The Flask application factory of the runner: the one place where services are built.

`create_app()` builds every service once — the store, the secret box, the event bus, the
workspace, the plugin host, the actions engine, the login limiter, the metrics — handing each
its collaborators explicitly, keeps them in a typed `GantryState`, registers the one JSON
error handling (`runner.api.errors.register`), one blueprint per API area from the plain list
`BLUEPRINTS` (a missing module is an ImportError at start, never a silently absent area), and
serves the generated site at `/`. Background work starts last, once every route is in place.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import ModuleType

from flask import Flask, Response, send_from_directory
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from . import cors, events, metrics
from .actions.engine import Engine, Sealer
from .actions.placeholders import Placeholders
from .api import (
    actions,
    argocd,
    audit,
    auth,
    dashboard,
    entities,
    errors,
    gitops,
    graph,
    health,
    healthcheck_proxy,
    history,
    openapi,
    plugins,
    schemas,
    scorecards,
    search,
    ws,
)
from .api.common import GantryState, current_state
from .auth import accounts
from .auth.ratelimit import LoginLimiter
from .catalog.replica_sync import ReplicaSync
from .catalog.workers import HeadWatcher, WorkerSlot
from .catalog.workspace import Workspace
from .config import Settings
from .errors import StatusError
from .plugins.host import PluginHost
from .store import notify, users
from .store.db import Store
from .store.pg import PgStore
from .store.schema import open_store
from .store.secrets import SecretBox
from .worker_channel import WorkerChannel

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "gantry_events"
"""The LISTEN/NOTIFY channel on which replicas sharing a PostgreSQL store relay events."""

CATALOG_CHANNEL = "gantry_catalog"
"""The channel on which replicas announce the catalog commits they pushed to `origin`."""

WORKER_BOOT_ERROR = 3
"""The exit status with which a gunicorn worker tells its arbiter to stop, not respawn it."""

BLUEPRINTS: tuple[ModuleType, ...] = (
    auth, entities, search, graph, schemas, actions, audit, history, dashboard, plugins,
    argocd, gitops, health, healthcheck_proxy, ws, openapi, scorecards,
)
"""Every API area, registered in this order (each module's `bp`)."""


class _SitePath(PathConverter):
    """Any path except the API's, so unknown `/api/...` routes stay JSON 404s."""

    regex = r"(?!api(?:/|$))[^/].*?"


def account_roles(store: Store):
    """The role an account holds now, by user name (None: no such account)."""

    def role_of(username: str) -> str | None:
        record = users.by_name(store, username)
        return record.role if record is not None else None

    return role_of


def relay_events(bus: events.EventBus, store: PgStore) -> notify.Channel:
    """Replicas on one PostgreSQL store share their events over its LISTEN/NOTIFY."""
    channel = notify.Channel(store, EVENTS_CHANNEL, bus.receive)
    bus.relay(channel.send, channel.close)
    return channel.start()


def relay_between_workers(bus: events.EventBus, settings: Settings,
                          slot: WorkerSlot) -> WorkerChannel:
    """Workers of one runner on the SQLite store share their events over datagram sockets."""
    channel = WorkerChannel(settings.data_dir, slot.number, slot.count, bus.receive)
    bus.relay(channel.send, channel.close)
    return channel.start()


def follow_origin(workspace: Workspace, store: PgStore) -> ReplicaSync:
    """Replicas on one PostgreSQL store push their writes to `origin` and pull each other's,
    announced over its LISTEN/NOTIFY."""
    sync = ReplicaSync(workspace)
    channel = notify.Channel(store, CATALOG_CHANNEL, sync.receive).start()
    workspace.sync = sync
    sync.start(channel.send)
    return sync


def create_app(settings: Settings | None = None, *, start_workspace: bool = True,
               bus: events.EventBus | None = None, warm_in_background: bool = False) -> Flask:
    """Build the runner app. Raises `ConfigError` / `StoreError` with a clear message.

    `bus` defaults to the process's bus, on which the workspace (entity changes) and the
    accounts (revoked credentials) publish. With `warm_in_background` (`gantry serve`) the
    app is returned at once and a thread brings the index up, then the site: `/healthz`
    answers from the first moment, the API and `/readyz` once the index is open.
    """
    settings = settings or Settings.from_env()
    settings.check_secret_key()
    store = open_store(settings.store_location)
    accounts.ensure_admin(store, settings.admin_password)
    secrets = SecretBox(settings.secret_key)
    bus = bus or events.EventBus()
    bus.on_revoked(accounts.forget)
    slot = WorkerSlot(settings.data_dir / "workers", settings.workers).claim() \
        if settings.workers > 1 else None
    if store.shared:
        relay_events(bus, store)
    elif slot is not None:
        relay_between_workers(bus, settings, slot)
    workspace = Workspace(settings, bus, slot)
    host = PluginHost(store, secrets, workspace)
    engine = Engine(
        store,
        Sealer(secrets.encrypt, secrets.decrypt),
        publish=bus.publish,
        workspace=workspace,
        plugin_config=host.decrypted_config,
        placeholders=Placeholders(settings.action_env),
        role_of=account_roles(store),
        owner=settings.replica_name + (f"/worker-{slot.number}" if slot else ""),
        lease_seconds=float(settings.run_lease_seconds),
        shared=store.shared or slot is not None,
    )

    app = Flask("runner", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.url_map.converters["sitepath"] = _SitePath
    app.url_map.strict_slashes = False
    state = GantryState(
        settings=settings, store=store, secrets=secrets, bus=bus, workspace=workspace,
        plugins=host, engine=engine, login_limiter=LoginLimiter(store),
        metrics=metrics.install(app, store, workspace),
    )
    app.extensions["gantry"] = state
    errors.register(app)
    cors.install(app, settings.cors_origins)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    _register_site(app)
    if slot is not None:
        _name_the_worker(app, slot.number)
        app.before_request(workspace.follow_if_moved)

    if warm_in_background and start_workspace:
        threading.Thread(target=warm_up, args=(state,), name="gantry-warm-up",
                         daemon=True).start()
        return app
    if start_workspace:
        workspace.start()
        follow_others(state)
    start_services(state)
    return app


def follow_others(state: GantryState) -> None:
    """Once the index is open: pull the other replicas' pushes (PostgreSQL and `origin`)
    and follow the other workers' commits (`--workers`)."""
    workspace = state.workspace
    if state.store.shared and ReplicaSync.available(workspace):
        follow_origin(workspace, state.store)
    if workspace.slot is not None and workspace.repo is not None:
        HeadWatcher(workspace.follow_if_moved).start()


def start_services(state: GantryState) -> None:
    """The action engine (in-flight runs resumed) and the plugins' schedules (in the first
    worker only)."""
    state.engine.start()
    slot = state.workspace.slot
    if slot is None or slot.leader:
        state.plugins.start()
    actions.report_misconfigured(state.workspace)


def warm_up(state: GantryState) -> None:
    """The start of `gantry serve`: the index, then the background work, then the site and a
    validation for the log. A start that fails is logged and ends the worker with gunicorn's
    boot-error status, which stops `gantry serve` as a failure in `create_app` would: a
    runner that can never serve must not stay up looking alive."""
    workspace = state.workspace
    try:
        workspace.start(site_in_background=True)
        follow_others(state)
        start_services(state)
    except Exception as exc:
        log.critical("the runner cannot start: %s", exc,
                     exc_info=not isinstance(exc, StatusError))
        logging.shutdown()
        os._exit(WORKER_BOOT_ERROR)
    log.info("ready: the API serves; the site is being rendered")
    workspace.finish_warming()
    log.info("warm: the site is rendered")


def _name_the_worker(app: Flask, number: int) -> None:
    """Say which worker answered (`X-Gantry-Worker`), for operators following a request."""
    name = str(number)

    @app.after_request
    def named(response: Response) -> Response:
        response.headers["X-Gantry-Worker"] = name
        return response


def _register_site(app: Flask) -> None:
    @app.route("/", methods=["GET", "HEAD"], defaults={"path": ""})
    @app.route("/<sitepath:path>", methods=["GET", "HEAD"])
    def site(path: str) -> Response:
        """The generated static site of the catalog (index.html for folders)."""
        workspace = current_state().workspace
        root = Path(workspace.site_dir)
        if not (root / "index.html").is_file() and ("site" in workspace.warming
                                                     or workspace.slot is not None):
            raise StatusError("the site is being rendered (the API already serves); try "
                              "again in a few seconds", status=503,
                              headers={"Retry-After": "5"})
        if not root.is_dir():
            raise errors.ApiError(404, "the site has not been built yet")
        target = safe_join(str(root), path) if path else str(root)
        if target is None:
            raise errors.ApiError(404, f"no such page: /{path}")
        if Path(target).is_dir():
            path = f"{path.rstrip('/')}/index.html".lstrip("/")
        if not Path(safe_join(str(root), path) or "").is_file():
            raise errors.ApiError(404, f"no such page: /{path}")
        return send_from_directory(root, path)
