"""The validator's output formats: text for people, json for scripts, github for workflow
annotations (plus a step summary), and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..structure.problem import Problem

FORMATS = ("text", "json", "github", "sarif")

RULES: dict[str, str] = {
    "yaml-syntax": "The file is not valid YAML.",
    "yaml-duplicate-key": "A mapping defines the same key twice.",
    "yaml-tag": "A YAML tag such as !!python/object is used; tags are refused, never executed.",
    "yaml-too-large": "A document expands to too many values (an alias bomb?).",
    "yaml-too-deep": "A document is nested too deeply.",
    "yaml-key": "A mapping key is not a plain scalar.",
    "yaml-merge": "A merge key '<<' does not name a mapping.",
    "not-a-mapping": "A document is not a mapping with apiVersion, kind, metadata and spec.",
    "encoding": "The file is not UTF-8.",
    "file-too-large": "The file is larger than a catalog file may be.",
    "io": "The file cannot be read.",
    "envelope": "apiVersion or kind is missing or wrong.",
    "unknown-kind": "The kind has no schema.",
    "schema": "The document does not match its kind's JSON Schema.",
    "name": "A name or namespace is not a valid name.",
    "duplicate": "The same kind, namespace and name are defined more than once.",
    "reference": "A reference names an entity that does not exist.",
    "action": "An Action's inputs or config break a rule its schema cannot state.",
}
SUMMARY_ROWS = 500
"""Rows written to the GitHub step summary; the rest are counted."""


def summary_line(problems: list[Problem], entities: int, files: int) -> str:
    """The last line of the text output."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if not problems:
        return f"catalog is valid: {entities} entities in {files} files"
    affected = len({p.file for p in problems})
    parts = [f"{errors} error{'s' if errors != 1 else ''}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return (f"{' and '.join(parts)} in {affected} file{'s' if affected != 1 else ''} "
            f"({entities} entities in {files} files checked)")


def as_text(problems: list[Problem], entities: int, files: int) -> str:
    """`file:line:col: message [rule]` per problem, sorted, then a summary line."""
    lines = [f"{p.file}:{p.line}:{p.column}: {_severity_prefix(p)}{p.message} [{p.rule}]"
             for p in sorted(problems, key=Problem.sort_key)]
    lines.append(summary_line(problems, entities, files))
    return "\n".join(lines) + "\n"


def _severity_prefix(problem: Problem) -> str:
    return "" if problem.severity == "error" else f"{problem.severity}: "


def as_json(problems: list[Problem]) -> str:
    """`{"problems": [{file, line, column, severity, message, rule}]}`."""
    rows = [{"file": p.file, "line": p.line, "column": p.column, "severity": p.severity,
             "message": p.message, "rule": p.rule} for p in sorted(problems, key=Problem.sort_key)]
    return json.dumps({"problems": rows}, indent=2, ensure_ascii=False) + "\n"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(problems: list[Problem]) -> str:
    """GitHub workflow commands: one `::error file=…,line=…,col=…,title=…::message` each."""
    lines = []
    for p in sorted(problems, key=Problem.sort_key):
        command = "warning" if p.severity == "warning" else "error"
        properties = ",".join([f"file={escape_property(p.file)}", f"line={p.line}",
                               f"col={p.column}", f"title={escape_property('gantry ' + p.rule)}"])
        lines.append(f"::{command} {properties}::{escape_data(p.message)}")
    return "".join(line + "\n" for line in lines)


def _cell(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
            .replace("<", "&lt;"))


def step_summary(problems: list[Problem], entities: int, files: int) -> str:
    """A Markdown summary for $GITHUB_STEP_SUMMARY: GitHub shows only 10 annotations a step."""
    out = ["## Gantry catalog validation", "", summary_line(problems, entities, files), ""]
    if problems:
        out += ["| File | Line | Column | Rule | Message |", "| --- | --- | --- | --- | --- |"]
        ordered = sorted(problems, key=Problem.sort_key)
        for p in ordered[:SUMMARY_ROWS]:
            out.append(f"| {_cell(p.file)} | {p.line} | {p.column} | {p.rule} | "
                       f"{_cell(p.message)} |")
        if len(ordered) > SUMMARY_ROWS:
            out += ["", f"… and {len(ordered) - SUMMARY_ROWS} more; run `gantry validate` "
                    "locally to see them all."]
    return "\n".join(out) + "\n\n"


def as_sarif(problems: list[Problem]) -> str:
    """SARIF 2.1.0, as GitHub code scanning accepts it (repository-relative URIs)."""
    used = sorted({p.rule for p in problems} | set(RULES))
    rules: list[dict[str, Any]] = []
    for rule in used:
        description = RULES.get(rule, rule)
        rules.append({"id": rule, "name": _rule_name(rule),
                      "shortDescription": {"text": description},
                      "fullDescription": {"text": description},
                      "defaultConfiguration": {"level": "error"},
                      "properties": {"tags": ["catalog"]}})
    index = {rule: i for i, rule in enumerate(used)}
    results = []
    for p in sorted(problems, key=Problem.sort_key):
        results.append({
            "ruleId": p.rule,
            "ruleIndex": index[p.rule],
            "level": "warning" if p.severity == "warning" else "error",
            "message": {"text": p.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(p.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(1, p.line), "startColumn": max(1, p.column)},
            }}],
        })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gantry", "semanticVersion": __version__,
                                "informationUri": "https://gantry.io/docs/validate",
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule_name(rule: str) -> str:
    return "".join(part.capitalize() for part in rule.split("-"))


def _uri(file: str) -> str:
    """A relative URI reference: percent-encode what a path may hold but a URI may not."""
    return quote(file.replace("\\", "/").removeprefix("./"), safe="/")


def render(fmt: str, problems: Iterable[Problem], entities: int, files: int) -> str:
    """The whole output of `gantry validate` in one format."""
    problems = list(problems)
    if fmt == "json":
        return as_json(problems)
    if fmt == "github":
        return as_github(problems)
    if fmt == "sarif":
        return as_sarif(problems)
    return as_text(problems, entities, files)
