"""The argocd plugin inside the runner: live app views, sync/refresh, discovery into Git.

Clients are kept per instance configuration (so a session token obtained with a password is
reused) and replaced when the configuration changes. Discovery writes through the runner's
workspace: under its write lock, as one commit authored by the caller, then the index and
site are refreshed for exactly the files that changed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from runner.catalog.git import Identity
from runner.errors import StatusError
from runner.plugins.settings import SettingsError
from runner.store import settings as plugin_rows
from runner.store.db import now_iso

from .client import ArgoCDClient, ArgoCDError, InvalidName, check_app_name
from .config import ArgoCDConfig, ConfigError, Instance
from .index_view import catalog_view
from .run import discover, fetch_apps
from .writer import DiscoveryWriteError

log = logging.getLogger(__name__)
PLUGIN = "argocd"


class ServiceError(StatusError):
    """The request cannot be served; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message, status=status, **extra)


def app_view(instance: str, app: dict[str, Any]) -> dict[str, Any]:
    """What the entity panel shows of an Application: status card and managed resources."""
    metadata = app.get("metadata") or {}
    spec = app.get("spec") or {}
    status = app.get("status") or {}
    operation = status.get("operationState") or {}
    source = spec.get("source") or next(iter(spec.get("sources") or []), {}) or {}
    history = status.get("history") or []
    resources = [{"group": r.get("group", ""), "version": r.get("version", ""),
                  "kind": r.get("kind", ""), "namespace": r.get("namespace", ""),
                  "name": r.get("name", ""), "status": r.get("status", ""),
                  "health": (r.get("health") or {}).get("status", "")}
                 for r in status.get("resources") or [] if isinstance(r, dict)]
    return {
        "instance": instance,
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", ""),
        "project": spec.get("project", ""),
        "syncStatus": (status.get("sync") or {}).get("status", "Unknown"),
        "healthStatus": (status.get("health") or {}).get("status", "Unknown"),
        "revision": (status.get("sync") or {}).get("revision", ""),
        "repoUrl": source.get("repoURL", ""),
        "path": source.get("path", "") or source.get("chart", ""),
        "targetRevision": source.get("targetRevision", ""),
        "destination": spec.get("destination") or {},
        "reconciledAt": status.get("reconciledAt"),
        "lastSyncedAt": operation.get("finishedAt") or
        (history[-1].get("deployedAt") if history else None),
        "operationState": {key: operation.get(key) for key in
                           ("phase", "message", "startedAt", "finishedAt")} if operation else None,
        "resources": resources,
    }


def _checked(app_name: str, where: str = "application name") -> str:
    """The name, or 400 when ArgoCD could not hold an application of that name."""
    try:
        return check_app_name(app_name, where)
    except InvalidName as exc:
        raise ServiceError(400, str(exc)) from exc


class ArgoCDService:
    """Everything the API and the background loop ask of the argocd plugin."""

    def __init__(self, settings: Any, store: Any, workspace: Any):
        self.settings = settings
        self.store = store
        self.workspace = workspace
        self._clients: dict[Instance, ArgoCDClient] = {}
        self._lock = threading.Lock()
        self._discovery_lock = threading.Lock()

    # --- configuration -------------------------------------------------------------------
    def config(self) -> ArgoCDConfig:
        if not self.settings.enabled(PLUGIN):
            raise ServiceError(409, "the argocd plugin is disabled; configure it and enable it "
                               "with PUT /api/v1/plugins/argocd/enable")
        try:
            return ArgoCDConfig.from_config(self.settings.config(PLUGIN))
        except ConfigError as exc:
            raise ServiceError(409, f"the argocd plugin is not usable: {exc}") from exc
        except SettingsError as exc:
            raise ServiceError(exc.status, exc.message) from exc

    def client(self, instance: Instance) -> ArgoCDClient:
        with self._lock:
            client = self._clients.get(instance)
            if client is None:
                for stale in [i for i in self._clients if i.name == instance.name]:
                    self._clients.pop(stale).close()
                client = self._clients[instance] = ArgoCDClient(instance)
            return client

    def secrets(self) -> list[str]:
        try:
            return self.settings.secret_values(PLUGIN)
        except SettingsError:
            return []

    # --- live endpoints ------------------------------------------------------------------
    def _locate(self, app_name: str, instance_name: str | None
                ) -> tuple[Instance, str, list[Instance]]:
        if ":" in app_name and not instance_name:
            instance_name, app_name = app_name.split(":", 1)
        _checked(app_name)
        config = self.config()
        try:
            candidates = [config.instance(instance_name)] if instance_name else \
                list(config.instances)
        except ConfigError as exc:
            raise ServiceError(404, str(exc)) from exc
        return candidates[0], app_name, candidates

    def _on_instances(self, app_name: str, instance_name: str | None, call: Any) -> Any:
        """Run `call(client, app)` on the named instance, or the first that knows the app."""
        _first, app, candidates = self._locate(app_name, instance_name)
        first_error: ArgoCDError | None = None
        for instance in candidates:
            try:
                return instance, call(self.client(instance), app)
            except ArgoCDError as exc:
                first_error = first_error or exc
                if exc.status not in (403, 404) or len(candidates) == 1:
                    raise
        assert first_error is not None
        raise first_error

    def app(self, app_name: str, instance: str | None = None) -> dict[str, Any]:
        found, app = self._on_instances(app_name, instance, lambda c, a: c.get_application(a))
        return app_view(found.name, app)

    def sync(self, app_name: str, *, hard: bool = False, prune: bool = False,
             instance: str | None = None) -> dict[str, Any]:
        found, app = self._on_instances(
            app_name, instance, lambda c, a: c.sync(a, prune=prune, hard=hard))
        return app_view(found.name, app)

    def refresh(self, app_name: str, instance: str | None = None) -> dict[str, Any]:
        found, app = self._on_instances(app_name, instance, lambda c, a: c.refresh(a))
        return app_view(found.name, app)

    def entity_apps(self, app_names: list[str]) -> list[dict[str, Any]]:
        """The apps of an entity; an app that cannot be read is listed with its error.

        A name ArgoCD could not hold refuses the whole request (400) before any call.
        """
        for index, ref in enumerate(app_names):
            _checked(ref.rpartition(":")[2], f"appNames[{index}]")
        views = []
        for ref in app_names:
            instance, _, name = ref.rpartition(":")
            try:
                views.append(self.app(name, instance or None))
            except ArgoCDError as exc:
                views.append({"instance": instance or exc.instance, "name": name,
                              "error": exc.message, "status": exc.status})
            except ServiceError as exc:
                if exc.status == 409:
                    raise
                views.append({"instance": instance, "name": name, "error": exc.message,
                              "status": exc.status})
        return views

    # --- discovery -----------------------------------------------------------------------
    def discover(self, author: Identity) -> dict[str, Any]:
        """Discover every instance and commit the catalog change on the runner's branch."""
        config = self.config()
        workspace = self.workspace
        if workspace is None:
            raise ServiceError(503, "the runner has no catalog workspace")
        if getattr(workspace, "read_only", False):
            raise ServiceError(409, "the catalog is read-only: "
                               f"{getattr(workspace, 'read_only_reason', '')}")
        with self._discovery_lock:
            try:
                apps = fetch_apps(config)  # network first, outside the write lock
                with workspace.lock:
                    workspace.follow_head()
                    parent = workspace.repo.head() if workspace.repo is not None else None
                    result = discover(workspace.catalog_root, config, author, apps=apps,
                                      view=catalog_view(workspace))
                    if result.commit and workspace.sync is not None:
                        result.commit = workspace.sync.push_commit(
                            [workspace.repo_path(path) for path in result.paths], parent,
                            result.commit)
                    if result.paths:
                        workspace.refresh(result.paths)
            except (ArgoCDError, DiscoveryWriteError) as exc:
                message = exc.message if isinstance(exc, ArgoCDError) else str(exc)
                plugin_rows.set_state(self.store, PLUGIN, lastDiscoveryAt=now_iso(),
                                      lastDiscoveryError=message)
                status = exc.status if isinstance(exc, ArgoCDError) else 409
                raise ServiceError(502 if status == 401 else status, message) from exc
        plugin_rows.set_state(self.store, PLUGIN, lastDiscoveryAt=now_iso(),
                              lastDiscoveryError="", lastDiscoveryCommit=result.commit)
        return {"commit": result.commit, "applications": result.app_count,
                "created": [c.name for c in result.changes if c.created],
                "updated": [c.name for c in result.changes if not c.created],
                "files": result.paths, "summary": result.summary}

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
