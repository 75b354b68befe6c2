"""Action checks a schema cannot express, as findings of the CLI validator.

The rules themselves live in `action_spec` (the runner applies the same ones); the schema
part of an Action's spec is checked with the whole document against its kind's schema.
"""

from __future__ import annotations

from ..structure.entity import Entity
from .action_spec import rule_problems
from .finding import Finding


def action_findings(entity: Entity) -> list[Finding]:
    """Problems in an Action's `spec.inputs` and `spec.config` beyond what its schema checks."""
    if entity.kind.lower() != "action":
        return []
    return [Finding(entity, path, message, "action", key)
            for path, key, message in rule_problems(entity.spec)]
