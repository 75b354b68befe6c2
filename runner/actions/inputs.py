"""Validation of a run's inputs against the action's `spec.inputs`, before anything runs.

The result is either the inputs with defaults applied, or one message per offending field so
that a form or a script can show every problem at once. The declarations themselves are
checked where `gantry validate` checks them (`generator.validate.action_spec`).

An input is secret when it is declared `secret: true` or its name looks like a secret
(`token`, `password`, `apiKey`, … — the rule of `runner.redact`): its value is redacted
wherever the run is shown. A `secret: true` input has no `default` (the catalog is readable
by everyone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from generator.validate.action_spec import MAX_TEXT_LENGTH, inputs_problems

from ..redact import is_secret_key


@dataclass(slots=True)
class InputResult:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def definitions(action: dict[str, Any]) -> list[dict[str, Any]]:
    """The input definitions of an Action entity (entries that are not mappings are skipped)."""
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    declared = spec.get("inputs") if isinstance(spec.get("inputs"), list) else []
    return [item for item in declared if isinstance(item, dict)]


def secret_names(action: dict[str, Any]) -> set[str]:
    """Names of the action's secret inputs: declared `secret: true`, or secret-looking."""
    return {
        item["name"] for item in definitions(action)
        if isinstance(item.get("name"), str)
        and (item.get("secret") is True or is_secret_key(item["name"]))
    }


def definition_problems(action: dict[str, Any]) -> list[str]:
    """Problems with the `spec.inputs` declarations themselves, as `gantry validate` finds
    them (`$defs/input` of `schemas/action.json` and the shared rules)."""
    spec = action.get("spec") if isinstance(action.get("spec"), dict) else {}
    return [message for _path, _key, message in inputs_problems(spec.get("inputs"))]


def validate_inputs(action: dict[str, Any], given: Any) -> InputResult:
    """Check `given` (the request's `inputs`) against the action; apply defaults."""
    result = InputResult()
    if given is None:
        given = {}
    if not isinstance(given, dict):
        result.errors["inputs"] = "must be an object of input names to values"
        return result
    declared = {
        item["name"]: item for item in definitions(action) if isinstance(item.get("name"), str)
    }
    for name in given:
        if name not in declared:
            result.errors[str(name)] = "unknown input"
    for name, item in declared.items():
        value = given.get(name)
        if value is None or (value == "" and item.get("type", "string") != "boolean"):
            if "default" in item and item["default"] is not None:
                result.values[name] = item["default"]
            elif item.get("required") is True:
                result.errors[name] = "is required"
            continue
        message = _check(item, value)
        if message:
            result.errors[name] = message
        else:
            result.values[name] = _as_option(item, value)
    if result.errors:
        result.values = {}
    return result


def _check(item: dict[str, Any], value: Any) -> str | None:
    kind = item.get("type", "string")
    if kind in ("string", "textarea"):
        if not isinstance(value, str):
            return "must be a string"
        if len(value) > MAX_TEXT_LENGTH:
            return f"must be at most {MAX_TEXT_LENGTH} characters"
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "select":
        options = item.get("options") if isinstance(item.get("options"), list) else []
        if not any(_same(value, option) or _spelled(value, option) for option in options):
            shown = ", ".join(str(option) for option in options)
            return f"must be one of: {shown}"
        return None
    return f"has an unsupported type {kind!r}"


def _same(value: Any, option: Any) -> bool:
    """Equality that does not let `true` match the option `1`."""
    return value == option and isinstance(value, bool) == isinstance(option, bool)


def _spelled(value: Any, option: Any) -> bool:
    """A form sends every select value as text: `"2"` stands for the option `2`."""
    if not isinstance(value, str) or isinstance(option, str):
        return False
    text = ("true" if option else "false") if isinstance(option, bool) else str(option)
    return value == text


def _as_option(item: dict[str, Any], value: Any) -> Any:
    """A select value as the option itself (so `"2"` is stored as the number 2)."""
    if item.get("type") != "select":
        return value
    for option in item.get("options") or []:
        if _same(value, option) or _spelled(value, option):
            return option
    return value
