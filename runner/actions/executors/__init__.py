"""The executors by action type (`spec.type`).

Every executor module is imported here by name: a missing or broken one stops the runner at
start with its ImportError, instead of leaving its action type silently unavailable. Each
module exposes `EXECUTOR`; `EXECUTORS` maps its `type` to it.
"""

from __future__ import annotations

from . import argocd_sync, flux_update, github_action, internal, webhook
from .base import Executor

EXECUTOR_MODULES = (webhook, flux_update, internal, github_action, argocd_sync)

EXECUTORS: dict[str, Executor] = {module.EXECUTOR.type: module.EXECUTOR
                                  for module in EXECUTOR_MODULES}
"""Executor instance by action type."""


def executor_for(action_type: str) -> Executor | None:
    """The executor of an action type, or None for a type no executor handles."""
    return EXECUTORS.get(action_type)
