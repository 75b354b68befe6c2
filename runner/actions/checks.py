"""Checks of an Action entity as a whole, made when actions are listed or run.

An action whose `spec` breaks `schemas/action.json` or the rules it cannot state (the one
check `gantry validate` makes too, `generator.validate.action_spec`), or whose type has no
executor on this runner, is reported with every problem and is never run.
"""

from __future__ import annotations

from typing import Any

from generator.structure.kinds import SchemaRegistry
from generator.validate.action_spec import config_types, spec_problems
from generator.validate.messages import Located

from .executors import executor_for


def action_type(action: dict[str, Any]) -> str:
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    kind = spec.get("type")
    return kind if isinstance(kind, str) else ""


def action_config(action: dict[str, Any]) -> dict[str, Any]:
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    config = spec.get("config")
    return config if isinstance(config, dict) else {}


def located_problems(action: dict[str, Any],
                     registry: SchemaRegistry | None = None) -> list[Located]:
    """Every reason the action cannot run, each as (document path, at key?, message)."""
    try:
        located = spec_problems(action, registry)
    except Exception as exc:  # a broken check must not hide the action list
        located = [(("spec",), False, f"spec could not be checked ({type(exc).__name__})")]
    kind = action_type(action)
    if kind in config_types(registry) and executor_for(kind) is None:
        located.append((("spec", "type"), False,
                        f"spec.type: no executor of type {kind!r} is available on this runner"))
    return located


def action_problems(action: dict[str, Any], registry: SchemaRegistry | None = None
                    ) -> list[str]:
    """Every reason the action cannot run; empty when it can."""
    return [message for _path, _key, message in located_problems(action, registry)]
