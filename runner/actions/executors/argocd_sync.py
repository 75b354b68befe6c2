"""`argocd-sync`: start an ArgoCD sync and follow the operation to its end.

Config: `appName` (required; an ArgoCD application name, checked before any request),
`instance` (an instance of the argocd plugin; default the first), `prune`, `hard` (prune and
force), `wait` (default true). ArgoCD and its credentials come from the argocd plugin's
settings. With `wait`, the run polls the application's `status.operationState` with growing
pauses (`Wait` steps, no thread held) until the phase is Succeeded (done) or Failed/Error
(failed); after a runner restart it resumes polling, because reading the state never sends a
second sync.
"""

from __future__ import annotations

import time
from typing import Any

from runner.plugins.argocd.client import ArgoCDClient, ArgoCDError, InvalidName
from runner.plugins.argocd.config import ArgoCDConfig, ConfigError, Instance

from .base import RESTART_ERROR, BaseExecutor, Done, Failed, RunContext, Step, Wait

TIMEOUT = 15.0
MAX_WAIT_SECONDS = 3600.0
"""A sync still running after an hour fails the run (the ArgoCD operation goes on)."""
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 10.0
_RUNNING = ("Running", "Terminating", "")


def _instance(ctx: RunContext, name: str | None) -> Instance:
    settings = ctx.plugin_config("argocd") or {}
    try:
        instance = ArgoCDConfig.from_config(settings).instance(name)
    except ConfigError as exc:
        raise ConfigError(f"the argocd plugin is not usable for this action: {exc}") from exc
    for secret in (instance.token, instance.password):
        ctx.add_secret(secret)
    return instance


def _summary(instance: str, app: dict[str, Any]) -> dict[str, Any]:
    status = app.get("status") or {}
    operation = status.get("operationState") or {}
    return {
        "instance": instance,
        "appName": (app.get("metadata") or {}).get("name", ""),
        "phase": operation.get("phase", ""),
        "message": operation.get("message", ""),
        "syncStatus": (status.get("sync") or {}).get("status", ""),
        "healthStatus": (status.get("health") or {}).get("status", ""),
        "revision": (status.get("sync") or {}).get("revision", ""),
    }


class ArgoCDSyncExecutor(BaseExecutor):
    type = "argocd-sync"

    def start(self, ctx: RunContext) -> Step:
        config = ctx.config
        problems = self.validate_config(config)
        if problems:
            return Failed("; ".join(problems))
        try:
            instance = _instance(ctx, config.get("instance"))
        except ConfigError as exc:
            return Failed(str(exc))
        app_name = config["appName"]
        try:
            with ArgoCDClient(instance, timeout=TIMEOUT) as client:
                app = client.sync(app_name, prune=bool(config.get("prune")),
                                  hard=bool(config.get("hard")))
        except ArgoCDError as exc:
            return Failed(f"sync of {app_name} not started: {exc.message}")
        except InvalidName as exc:
            return Failed(str(exc))
        summary = _summary(instance.name, app)
        started = ((app.get("status") or {}).get("operationState") or {}).get("startedAt", "")
        ctx.state.update(instance=instance.name, appName=app_name, startedAt=started,
                         since=time.time(), polls=0)
        if config.get("wait", True) is False:
            return Done({**summary, "waited": False})
        return Wait(FIRST_POLL_SECONDS)

    def poll(self, ctx: RunContext) -> Step:
        state = ctx.state
        try:
            instance = _instance(ctx, state.get("instance"))
            with ArgoCDClient(instance, timeout=TIMEOUT) as client:
                app = client.get_application(state["appName"])
        except (ConfigError, InvalidName) as exc:
            return Failed(str(exc))
        except ArgoCDError as exc:
            if exc.status >= 500:  # a passing outage: keep following
                return self._again(ctx)
            return Failed(f"cannot follow the sync of {state['appName']}: {exc.message}")
        summary = _summary(instance.name, app)
        operation = (app.get("status") or {}).get("operationState") or {}
        if state.get("startedAt") and operation.get("startedAt", "") < state["startedAt"]:
            return self._again(ctx)  # ArgoCD still shows the previous operation
        phase = summary["phase"]
        if phase == "Succeeded":
            return Done(summary)
        if phase in ("Failed", "Error"):
            return Failed(f"ArgoCD sync of {state['appName']} ended {phase}: "
                          f"{summary['message'] or 'no message'}", summary)
        return self._again(ctx)

    def _again(self, ctx: RunContext) -> Step:
        if time.time() - ctx.state.get("since", time.time()) > MAX_WAIT_SECONDS:
            return Failed(f"the sync of {ctx.state.get('appName')} did not finish within "
                          f"{int(MAX_WAIT_SECONDS)}s; it may still be running in ArgoCD")
        ctx.state["polls"] = ctx.state.get("polls", 0) + 1
        return Wait(min(FIRST_POLL_SECONDS * 1.5 ** ctx.state["polls"], MAX_POLL_SECONDS))

    def resume(self, ctx: RunContext) -> Step:
        if ctx.state.get("appName") and ctx.config.get("wait", True) is not False:
            return self.poll(ctx)
        return Failed(RESTART_ERROR)


EXECUTOR = ArgoCDSyncExecutor()
