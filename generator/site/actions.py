"""Action forms: the fields generated from `spec.inputs`, and which actions suit an entity.

An action suits an entity when one of its inputs is named after the entity's kind
(`service` for a Service, `environment` for an Environment; `_`/`-` ignored) or when its
`spec.targets` lists the kind. The entity page links to such actions with that input
pre-filled (`?service=payment-api`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INPUT_TYPES = ("string", "textarea", "number", "boolean", "select")
"""The controls the form template draws; schemas/action.json `$defs/input` lists the same."""


@dataclass(frozen=True, slots=True)
class FormField:
    """One form control: what the browser shows and what the runner expects."""

    name: str
    title: str
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    options: tuple[str, ...] = field(default_factory=tuple)
    secret: bool = False


def form_fields(spec: dict[str, Any]) -> list[FormField]:
    """The fields of an action's form, in the order of `spec.inputs`; unnamed inputs skipped."""
    fields: list[FormField] = []
    inputs = spec.get("inputs")
    if not isinstance(inputs, list):
        return fields
    for item in inputs:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        kind = item.get("type") if item.get("type") in INPUT_TYPES else "string"
        options = item.get("options") if isinstance(item.get("options"), list) else []
        fields.append(
            FormField(
                name=item["name"],
                title=str(item.get("title") or item["name"]),
                type=kind,
                description=str(item.get("description") or ""),
                required=item.get("required") is True,
                default=item.get("default"),
                options=tuple(str(option) for option in options),
                secret=item.get("secret") is True,
            )
        )
    return fields


def _squash(text: str) -> str:
    return text.lower().replace("_", "").replace("-", "")


def target_input(spec: dict[str, Any], kind: str) -> str | None:
    """The input that receives an entity of `kind`, '' when the action targets the kind as a
    whole (`spec.targets`), or None when the action does not suit that kind."""
    wanted = _squash(kind)
    for item in spec.get("inputs") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            if _squash(item["name"]) == wanted:
                return item["name"]
    targets = spec.get("targets")
    if isinstance(targets, list) and any(
        isinstance(t, str) and _squash(t) == wanted for t in targets
    ):
        return ""
    return None
