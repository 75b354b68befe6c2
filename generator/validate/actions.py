"""Action checks a schema cannot express: unique input names, defaults that fit their input,
no default on a `secret: true` input (the catalog is readable by everyone; the runner refuses
such an action too)."""

from __future__ import annotations

from typing import Any

from ..structure.entity import Entity
from .finding import Finding, show


def _fits(kind: str, value: Any) -> bool:
    if kind in ("string", "textarea"):
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def action_findings(entity: Entity) -> list[Finding]:
    """Problems in an Action's `spec.inputs` beyond what its schema checks."""
    if entity.kind.lower() != "action":
        return []
    inputs = entity.spec.get("inputs")
    if not isinstance(inputs, list):
        return []
    findings = []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(inputs):
        if not isinstance(item, dict):
            continue
        where = ("spec", "inputs", index)
        label = f"spec.inputs[{index}]"
        name = item.get("name")
        if isinstance(name, str):
            if name in first_seen:
                findings.append(Finding(entity, where + ("name",), f"{label}.name: duplicate "
                                        f"input name '{name}' (also spec.inputs"
                                        f"[{first_seen[name]}])", "action"))
            else:
                first_seen[name] = index
        input_type = item.get("type", "string")
        options = item.get("options")
        if item.get("secret") is True and item.get("default") is not None:
            findings.append(Finding(entity, where + ("default",), f"{label}.default: a secret "
                                    "input cannot have a default (the catalog is readable by "
                                    "everyone)", "action"))
            continue
        if "default" not in item or not isinstance(input_type, str):
            continue
        default = item["default"]
        if input_type == "select" and isinstance(options, list) and options:
            if default not in options or isinstance(default, bool):
                listed = ", ".join(show(option) for option in options)
                findings.append(Finding(entity, where + ("default",), f"{label}.default: "
                                        f"{show(default)} is not one of the options ({listed})",
                                        "action"))
        elif not _fits(input_type, default):
            findings.append(Finding(entity, where + ("default",), f"{label}.default: "
                                    f"{show(default)} does not fit a {input_type} input",
                                    "action"))
    return findings
