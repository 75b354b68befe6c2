"""Scorecard problems are reported like any entity's, each at its line and column."""

from __future__ import annotations

import textwrap
from pathlib import Path

from generator.validate import validate_catalog

BAD = textwrap.dedent("""\
    apiVersion: gantry.io/v1
    kind: Scorecard
    metadata:
      name: bad
    spec:
      appliesTo:
        kinds: [Service]
      levels:
        - name: Bronze
      rules:
        - id: wrong-level
          title: A
          level: Silver
          annotation: owner
        - id: wrong-level
          title: B
          level: Bronze
          sql: SELECT ref FROM entities
        - id: writes
          title: C
          level: Bronze
          sql: DELETE FROM entities
        - id: typo
          title: D
          level: Bronze
          colour: red
          sql: SELEC 1
        - id: unknown-table
          title: E
          level: Bronze
          sql: SELECT ref, true AS passed, '' AS reason FROM nowhere
    """)


def test_each_problem_at_its_line(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    problems = [(p.line, p.column, p.rule, p.message)
                for p in validate_catalog(tmp_path).problems]
    assert problems[:4] == [
        (13, 14, "scorecard", "spec.rules[0].level: 'Silver' is not one of spec.levels "
                              "('Bronze')"),
        (15, 11, "scorecard", "spec.rules[1].id: rule id 'wrong-level' is used twice"),
        (18, 12, "scorecard-sql", "spec.rules[1].sql: the SQL must return the columns ref, "
                                  "passed, reason; it returns ref (missing passed, reason)"),
        (22, 12, "scorecard-sql", "spec.rules[2].sql: the SQL must be a SELECT (read-only), "
                                  "not DELETE"),
    ]
    assert problems[4][:3] == (26, 7, "schema") and "'colour'" in problems[4][3]
    assert problems[5][:3] == (27, 12, "scorecard-sql") and "does not parse" in problems[5][3]
    assert problems[6][:3] == (31, 12, "scorecard-sql") and "nowhere" in problems[6][3]
    assert len(problems) == 7


def test_the_example_scorecards_are_valid():
    catalog = Path(__file__).resolve().parents[2] / "catalog"
    result = validate_catalog(catalog)
    assert [p for p in result.problems if p.file.endswith(("scorecard", ".yaml"))
            and "Scorecard" in p.file] == []
    assert sum(1 for e in result.entities if e.kind == "Scorecard") == 2
