"""Checks of an Action entity as a whole, made when actions are listed or run.

An action whose type has no executor, whose `spec.config` the executor refuses, or whose
input declarations are broken is reported with every problem and is never run.
"""

from __future__ import annotations

from typing import Any

from .executors import executor_for
from .inputs import definition_problems


def action_type(action: dict[str, Any]) -> str:
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    kind = spec.get("type")
    return kind if isinstance(kind, str) else ""


def action_config(action: dict[str, Any]) -> dict[str, Any]:
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    config = spec.get("config")
    return config if isinstance(config, dict) else {}


def action_problems(action: dict[str, Any]) -> list[str]:
    """Every reason the action cannot run; empty when it can."""
    kind = action_type(action)
    executor = executor_for(kind)
    problems = []
    if not kind:
        problems.append("spec.type is required")
    elif executor is None:
        problems.append(f"spec.type {kind!r}: no executor of that type is available")
    else:
        try:
            problems.extend(executor.validate_config(action_config(action)))
        except Exception as exc:  # a broken validator must not hide the action list
            problems.append(f"spec.config could not be checked ({type(exc).__name__})")
    problems.extend(definition_problems(action))
    return problems
