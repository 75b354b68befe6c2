"""The rows of an entity page's scorecard tables as HTML, each distinct row made once.

At 100k entities these tables were the largest share of an entity page's template work,
while their rows repeat: a rule's outcome, title, level and reason are the same for
thousands of entities. A row is escaped exactly as the template would escape it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

MAX_CACHED = 100_000
"""Distinct rows kept; the cache starts over past this (reasons may be per entity)."""
_ROW = Markup('<tr class="{}"><td><span class="result"><span aria-hidden="true">{}</span> '
              '{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>\n')
_ROWS: dict[tuple[Any, ...], Markup] = {}


def rule_rows(rules: Iterable[dict[str, Any]]) -> Markup:
    """The `<tr>` of each rule outcome (`score.read.scores_by_entity`), one per line."""
    parts = []
    for rule in rules:
        passed = bool(rule["passed"])
        key = (passed, rule["title"], rule["level"], rule["reason"])
        row = _ROWS.get(key)
        if row is None:
            if len(_ROWS) >= MAX_CACHED:
                _ROWS.clear()
            row = _ROWS[key] = _ROW.format("pass" if passed else "fail",
                                           "✓" if passed else "✗",
                                           "Passed" if passed else "Failed",
                                           rule["title"], rule["level"], rule["reason"])
        parts.append(row)
    return Markup("").join(parts)
