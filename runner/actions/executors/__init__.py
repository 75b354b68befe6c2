"""The executors by action type (`spec.type`).

Each module of this package that is present registers one executor; a module that is missing
(or fails to import) simply leaves its type unavailable, and actions of that type are refused
with a clear message when they are run.
"""

from __future__ import annotations

import importlib
import logging

from .base import Executor

log = logging.getLogger(__name__)

_MODULES = {
    "webhook": "webhook",
    "flux-update": "flux_update",
    "internal": "internal",
    "github-action": "github_action",
    "argocd-sync": "argocd_sync",
}


def _load() -> dict[str, Executor]:
    found: dict[str, Executor] = {}
    for action_type, module_name in _MODULES.items():
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module_name}":
                log.warning("executor %s unavailable: %s", action_type, exc)
            continue
        except Exception:  # a broken executor must not take the others down
            log.exception("executor %s failed to load", action_type)
            continue
        executor = getattr(module, "EXECUTOR", None)
        if executor is None:
            log.warning("executor module %s defines no EXECUTOR", module_name)
            continue
        found[action_type] = executor
    return found


EXECUTORS: dict[str, Executor] = _load()
"""Executor instance by action type."""


def executor_for(action_type: str) -> Executor | None:
    """The executor of an action type, or None when that type is not available."""
    return EXECUTORS.get(action_type)
