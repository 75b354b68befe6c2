"""The Flask application factory of the runner.

`create_app()` opens the store, builds the workspace, registers one blueprint per API area
and serves the generated site at `/`. Blueprint modules are found by name in
`BLUEPRINT_MODULES`: a module that exists and has a `bp` attribute is registered, and its
optional `init_app(app, state)` runs after all blueprints are in place (to start
background work), so every area plugs in without editing this file.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask, Response, current_app, send_from_directory
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from . import events, metrics
from .api import errors
from .auth import accounts
from .auth.ratelimit import LoginLimiter
from .config import Settings
from .store.db import Store
from .store.secrets import SecretBox

log = logging.getLogger(__name__)

BLUEPRINT_MODULES = (
    "auth", "entities", "search", "graph", "schemas", "actions", "audit", "history",
    "dashboard", "plugins", "argocd", "gitops", "health", "healthcheck_proxy", "ws", "openapi",
)


@dataclass
class GantryState:
    """Everything the request handlers share, at `app.extensions["gantry"]`."""

    settings: Settings
    store: Store
    secrets: SecretBox
    bus: events.EventBus = field(default_factory=lambda: events.bus)
    workspace: Any = None
    engine: Any = None
    plugins: Any = None
    login_limiter: LoginLimiter = field(default_factory=LoginLimiter)
    metrics: Any = None
    blueprint_modules: dict[str, ModuleType] = field(default_factory=dict)


def current_state() -> GantryState:
    """The state of the app serving this request."""
    return current_app.extensions["gantry"]


class _SitePath(PathConverter):
    """Any path except the API's, so unknown `/api/...` routes stay JSON 404s."""

    regex = r"(?!api(?:/|$))[^/].*?"


def _import_optional(qualified: str) -> ModuleType | None:
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if exc.name == qualified:
            return None
        raise


def _build_workspace(settings: Settings) -> Any:
    module = _import_optional("runner.catalog.workspace")
    if module is None or not hasattr(module, "Workspace"):
        log.warning("runner.catalog.workspace is not available: the runner serves no catalog")
        return None
    return module.Workspace(settings)


def create_app(settings: Settings | None = None, *, start_workspace: bool = True) -> Flask:
    """Build the runner app. Raises `ConfigError` / `StoreError` with a clear message."""
    settings = settings or Settings.from_env()
    settings.check_secret_key()
    store = Store(settings.db_path)
    accounts.ensure_admin(store, settings.admin_password)

    app = Flask("runner", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.url_map.converters["sitepath"] = _SitePath
    app.url_map.strict_slashes = False

    state = GantryState(settings=settings, store=store, secrets=SecretBox(settings.secret_key))
    app.extensions["gantry"] = state
    errors.register(app)
    state.metrics = metrics.install(app, state)

    state.workspace = _build_workspace(settings)
    if state.workspace is not None and start_workspace and hasattr(state.workspace, "start"):
        state.workspace.start()

    for name in BLUEPRINT_MODULES:
        module = _import_optional(f"runner.api.{name}")
        if module is not None and getattr(module, "bp", None) is not None:
            app.register_blueprint(module.bp)
            state.blueprint_modules[name] = module

    _register_site(app)

    for module in state.blueprint_modules.values():
        init = getattr(module, "init_app", None)
        if callable(init):
            init(app, state)
    return app


def _register_site(app: Flask) -> None:
    @app.route("/", methods=["GET", "HEAD"], defaults={"path": ""})
    @app.route("/<sitepath:path>", methods=["GET", "HEAD"])
    def site(path: str) -> Response:
        """The generated static site of the catalog (index.html for folders)."""
        workspace = current_state().workspace
        site_dir = getattr(workspace, "site_dir", None)
        if site_dir is None or not Path(site_dir).is_dir():
            raise errors.ApiError(404, "the site has not been built yet")
        root = Path(site_dir)
        target = safe_join(str(root), path) if path else str(root)
        if target is None:
            raise errors.ApiError(404, f"no such page: /{path}")
        if Path(target).is_dir():
            path = f"{path.rstrip('/')}/index.html".lstrip("/")
        if not Path(safe_join(str(root), path) or "").is_file():
            raise errors.ApiError(404, f"no such page: /{path}")
        return send_from_directory(root, path)
