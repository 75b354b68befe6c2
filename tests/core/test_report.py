"""The output formats, checked field by field."""

from __future__ import annotations

import json

from generator.structure.problem import Problem
from generator.validate.report import (
    RULES,
    as_github,
    as_json,
    as_sarif,
    as_text,
    step_summary,
)

PROBLEMS = [
    Problem("catalog/b.yaml", 3, 5, "spec.type: 'x' is not one of a, b", "schema"),
    Problem("catalog/a.yaml", 10, 1, "100% wrong,\r\nsecond line: here", "reference"),
    Problem("catalog/a.yaml", 2, 7, "a | pipe <b>", "name", "warning"),
]


def test_text_is_sorted_with_a_summary() -> None:
    assert as_text(PROBLEMS, 12, 4).splitlines() == [
        "catalog/a.yaml:2:7: warning: a | pipe <b> [name]",
        "catalog/a.yaml:10:1: 100% wrong,\r\nsecond line: here [reference]".splitlines()[0],
        "second line: here [reference]",
        "catalog/b.yaml:3:5: spec.type: 'x' is not one of a, b [schema]",
        "2 errors and 1 warning in 2 files (12 entities in 4 files checked)",
    ]
    assert as_text([], 12, 4) == "catalog is valid: 12 entities in 4 files\n"


def test_json_format() -> None:
    data = json.loads(as_json(PROBLEMS))
    assert list(data) == ["problems"]
    assert data["problems"][0] == {"file": "catalog/a.yaml", "line": 2, "column": 7,
                                   "severity": "warning", "message": "a | pipe <b>",
                                   "rule": "name"}
    assert [p["line"] for p in data["problems"]] == [2, 10, 3]
    assert json.loads(as_json([])) == {"problems": []}


def test_github_workflow_commands_are_escaped() -> None:
    lines = as_github(PROBLEMS).splitlines()
    assert lines == [
        "::warning file=catalog/a.yaml,line=2,col=7,title=gantry name::a | pipe <b>",
        "::error file=catalog/a.yaml,line=10,col=1,title=gantry reference::"
        "100%25 wrong,%0D%0Asecond line: here",
        "::error file=catalog/b.yaml,line=3,col=5,title=gantry schema::"
        "spec.type: 'x' is not one of a, b",
    ]
    odd = as_github([Problem("cat/a,b:c%.yaml", 1, 1, "m", "io")])
    assert odd == "::error file=cat/a%2Cb%3Ac%25.yaml,line=1,col=1,title=gantry io::m\n"


def test_step_summary_is_a_markdown_table() -> None:
    summary = step_summary(PROBLEMS, 12, 4)
    lines = summary.splitlines()
    assert lines[0] == "## Gantry catalog validation"
    assert "| File | Line | Column | Rule | Message |" in lines
    assert "| catalog/a.yaml | 2 | 7 | name | a \\| pipe &lt;b> |" in lines
    assert "| catalog/a.yaml | 10 | 1 | reference | 100% wrong,  second line: here |" in lines
    many = [Problem("c/x.yaml", i, 1, "m", "schema") for i in range(1, 600)]
    assert "… and 99 more" in step_summary(many, 1, 1)


def test_sarif_structure() -> None:
    log = json.loads(as_sarif(PROBLEMS))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gantry"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert set(rule_ids) == set(RULES)
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    results = run["results"]
    assert len(results) == 3
    first = results[0]
    assert first["ruleId"] == "name"
    assert rule_ids[first["ruleIndex"]] == "name"
    assert first["level"] == "warning"
    assert first["message"] == {"text": "a | pipe <b>"}
    (location,) = first["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "catalog/a.yaml"
    assert physical["region"] == {"startLine": 2, "startColumn": 7}
    assert [r["level"] for r in results] == ["warning", "error", "error"]


def test_sarif_uris_are_relative_references() -> None:
    log = json.loads(as_sarif([Problem("./cat alog/a#b.yaml", 1, 1, "m", "custom-rule")]))
    result = log["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "cat%20alog/a%23b.yaml"
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == "custom-rule"
