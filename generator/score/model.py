"""What a Scorecard entity says, as plain values (read from the index or from YAML)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CHECK_KEYS = ("field", "relation", "annotation", "link", "git", "sql")
"""The check a rule makes: exactly one of these keys (schemas/scorecard.json)."""
FILTER_COLUMNS = {"lifecycle": "lifecycle", "type": "type", "owner": "owner",
                  "namespace": "namespace"}
"""appliesTo.filter keys that compare one column of `entities` (tags is a list)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: passes or fails for each entity the scorecard applies to."""

    id: str
    title: str
    level: str
    weight: float
    check: str
    """Which check (one of CHECK_KEYS)."""
    argument: Any
    """The check's value in the document (a mapping, or a string for annotation and sql)."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A scorecard: which entities it scores, its ordered levels and its rules."""

    name: str
    title: str
    description: str
    kinds: tuple[str, ...]
    filter: dict[str, list[str]]
    levels: tuple[str, ...]
    rules: tuple[Rule, ...]

    def level_index(self, level: str) -> int:
        """The position of `level` (0 = lowest); -1 when the scorecard has no such level."""
        return self.levels.index(level) if level in self.levels else -1

    def usable_rules(self) -> list[Rule]:
        """The rules that name an existing level (the validator reports the others)."""
        return [rule for rule in self.rules if rule.level in self.levels]


def scorecard_from(name: str, title: str | None, description: str | None,
                   spec: dict[str, Any] | str) -> Scorecard | None:
    """A Scorecard from an entity's fields; None when the spec is not even shaped like one.

    Lenient on purpose: the index holds invalid entities too, and a rule the validator
    refuses is simply left out here rather than stopping the build.
    """
    if isinstance(spec, str):
        spec = json.loads(spec)
    if not isinstance(spec, dict):
        return None
    applies = spec.get("appliesTo") if isinstance(spec.get("appliesTo"), dict) else {}
    kinds = tuple(str(k) for k in applies.get("kinds") or () if isinstance(k, str))
    raw_filter = applies.get("filter") if isinstance(applies.get("filter"), dict) else {}
    filters = {key: [str(v) for v in values] for key, values in raw_filter.items()
               if isinstance(values, list)}
    levels = tuple(str(level["name"]) for level in spec.get("levels") or ()
                   if isinstance(level, dict) and isinstance(level.get("name"), str))
    rules = []
    for raw in spec.get("rules") or ():
        rule = _rule(raw)
        if rule is not None:
            rules.append(rule)
    return Scorecard(name, title or name, description or "", kinds, filters, levels,
                     tuple(rules))


def _rule(raw: Any) -> Rule | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    checks = [key for key in CHECK_KEYS if key in raw]
    if len(checks) != 1:
        return None
    argument = raw[checks[0]]
    if checks[0] == "link" and argument is None:
        argument = {}
    wanted = str if checks[0] in ("annotation", "sql") else dict
    if not isinstance(argument, wanted):
        return None  # the schema refuses it; the validator says where
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        weight = 1
    return Rule(raw["id"], str(raw.get("title") or raw["id"]), str(raw.get("level", "")),
                float(weight), checks[0], argument, str(raw.get("description") or ""))


def level_reached(levels: tuple[str, ...], failing_levels: set[str]) -> str | None:
    """The highest level whose rules, and all lower levels' rules, pass (None: below the
    first). A level without rules is passed when every level below it is."""
    reached = None
    for level in levels:
        if level in failing_levels:
            break
        reached = level
    return reached
