"""The runner's plugin host: settings, the argocd and gitops services, background loops.

One host per app, built by `create_app` with its collaborators and kept at
`GantryState.plugins`. A single daemon thread wakes every few seconds
and runs what a plugin's `syncInterval` asks for (ArgoCD discovery, GitOps pull and push),
reading the configuration afresh each time, so a changed interval applies without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from runner.catalog.git import GANTRY
from runner.catalog.workspace import Workspace
from runner.store import audit
from runner.store.db import Store
from runner.store.secrets import SecretBox

from .argocd.service import ArgoCDService
from .durations import parse_duration
from .gitops.service import GitOpsService
from .settings import PluginSettings, attach_secret_box

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
SYSTEM_AUTHOR = GANTRY


class PluginHost:
    """The bundled plugins' settings and services over the app's store and workspace."""

    def __init__(self, store: Store, secrets: SecretBox, workspace: Workspace) -> None:
        self.store = store
        attach_secret_box(store, secrets)
        self.settings = PluginSettings(store, secrets)
        self.argocd = ArgoCDService(self.settings, store, workspace)
        self.gitops = GitOpsService(self.settings, store, workspace)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_run: dict[str, float] = {}

    def decrypted_config(self, name: str) -> dict[str, Any]:
        """A plugin's settings with secrets in clear, for executors (never for responses)."""
        try:
            return self.settings.config(name)
        except Exception:
            log.exception("settings of plugin %s cannot be read", name)
            return {}

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="gantry-plugins",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.gitops.close()
        self.argocd.close()

    def _due(self, name: str) -> bool:
        try:
            if not self.settings.enabled(name):
                return False
            interval = parse_duration(self.settings.config(name).get("syncInterval"))
        except Exception:
            return False
        if interval is None:
            return False
        now = time.monotonic()
        last = self._last_run.setdefault(name, now)
        if now - last < interval:
            return False
        self._last_run[name] = now
        return True

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            if self._due("argocd"):
                try:
                    result = self.argocd.discover(SYSTEM_AUTHOR)
                except Exception as exc:  # reported in the plugin state; the loop goes on
                    log.warning("background ArgoCD discovery failed: %s", exc)
                else:
                    if result["commit"]:
                        audit.record(self.store, user=SYSTEM_AUTHOR.name,
                                     action="plugin.sync", resource_type="Plugin",
                                     resource_name="argocd", source="schedule",
                                     commit=result["commit"],
                                     details={k: result[k] for k in ("created", "updated",
                                                                     "files")})
            if self._due("gitops"):
                try:
                    self.gitops.submit("pull", None)
                except Exception as exc:
                    log.warning("background GitOps pull not started: %s", exc)
            self.gitops.autopush_tick()
