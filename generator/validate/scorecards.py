"""Scorecard checks a schema cannot express, as findings at the line of the value at fault.

The schema (`schemas/scorecard.json`) checks shapes and unknown fields; here: each rule's
level names one of `spec.levels`, level names and rule ids are unique, and a rule's SQL is
one read-only SELECT that runs on the index's tables and returns `ref, passed, reason`.
"""

from __future__ import annotations

from ..score.sql_guard import pattern_problem, sql_problem
from ..structure.entity import Entity
from .finding import Finding


def scorecard_findings(entity: Entity) -> list[Finding]:
    """Problems of a Scorecard's levels and rules beyond its schema."""
    if entity.kind.lower() != "scorecard" or not isinstance(entity.spec, dict):
        return []
    findings: list[Finding] = []
    levels = [level.get("name") for level in entity.spec.get("levels") or ()
              if isinstance(level, dict)]
    seen_levels: set[str] = set()
    for index, name in enumerate(levels):
        if name in seen_levels:
            findings.append(Finding(entity, ("spec", "levels", index, "name"),
                                    f"spec.levels[{index}].name: level {name!r} is listed "
                                    "twice", "scorecard"))
        seen_levels.add(name)
    seen_ids: set[str] = set()
    rules = entity.spec.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if not isinstance(rule, dict):
            continue
        where = ("spec", "rules", index)
        rule_id, level = rule.get("id"), rule.get("level")
        if isinstance(rule_id, str):
            if rule_id in seen_ids:
                findings.append(Finding(entity, (*where, "id"), f"spec.rules[{index}].id: "
                                        f"rule id {rule_id!r} is used twice", "scorecard"))
            seen_ids.add(rule_id)
        if isinstance(level, str) and level not in seen_levels:
            known = ", ".join(repr(name) for name in levels) or "none"
            findings.append(Finding(entity, (*where, "level"), f"spec.rules[{index}].level: "
                                    f"{level!r} is not one of spec.levels ({known})",
                                    "scorecard"))
        for check, pattern in _patterns(rule):
            problem = pattern_problem(pattern)
            if problem:
                findings.append(Finding(entity, (*where, check, "matches"),
                                        f"spec.rules[{index}].{check}.matches: {problem}",
                                        "scorecard"))
        if isinstance(rule.get("sql"), str):
            problem = sql_problem(rule["sql"])
            if problem:
                findings.append(Finding(entity, (*where, "sql"),
                                        f"spec.rules[{index}].sql: {problem}", "scorecard-sql"))
    return findings


def _patterns(rule: dict) -> list[tuple[str, str]]:
    return [(check, rule[check]["matches"]) for check in ("field", "link")
            if isinstance(rule.get(check), dict)
            and isinstance(rule[check].get("matches"), str)]
