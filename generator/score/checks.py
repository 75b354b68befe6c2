"""Each rule's check as one SQL query over the index: `(ref, passed, reason)` per entity.

The queries read the entities listed in the temporary table `score_targets` (the entities
a scorecard applies to, or the few an incremental update re-scores), so one rule costs one
set-based query whatever the catalog's size. Values from the scorecard are written as SQL
literals (`literal`), never spliced in raw.
"""

from __future__ import annotations

from typing import Any

from .model import Rule
from .sql_guard import guarded_select

TARGETS = "score_targets"
"""The temporary table of refs being scored."""
_BASE = f"FROM {TARGETS} t JOIN entities e ON e.ref = t.ref"


def literal(value: Any) -> str:
    """A Python scalar as a DuckDB literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _json_path(dotted: str) -> str:
    return "$" + "".join(f'."{part}"' for part in dotted.split("."))


def _as_text(value: Any) -> str:
    """How json_extract_string shows a scalar: the comparison form of `equals`/`oneOf`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rule_query(rule: Rule) -> str:
    """The query answering `rule` for every ref in `score_targets`."""
    build = _BUILDERS[rule.check]
    return build(rule.argument)


def _field(check: dict[str, Any]) -> str:
    path = check["path"]
    where = literal(_json_path(path))
    value = f"json_extract(e.data, {where})"
    text = f"json_extract_string(e.data, {where})"
    shown = f"coalesce('''' || left({text}, 60) || '''', 'missing')"
    present = (f"({value} IS NOT NULL AND json_type({value}) <> 'NULL' "
               f"AND {value}::VARCHAR NOT IN ('\"\"', '[]', '{{}}'))")
    name = literal(path)
    if "exists" in check:
        passed = present
        reason = f"CASE WHEN {present} THEN {name} || ' is set' ELSE {name} || ' is missing' END"
    elif "equals" in check:
        expected = literal(_as_text(check["equals"]))
        passed = f"coalesce({text} = {expected}, false)"
        reason = _unless(passed, f"{name} || ' is ' || {shown}", f"', expected ' || {expected}")
    elif "oneOf" in check:
        options = [_as_text(v) for v in check["oneOf"]]
        listed = ", ".join(literal(v) for v in options)
        passed = f"coalesce({text} IN ({listed}), false)"
        reason = _unless(passed, f"{name} || ' is ' || {shown}",
                         f"', expected one of ' || {literal(', '.join(options))}")
    elif "matches" in check:
        pattern = literal(check["matches"])
        passed = f"coalesce(regexp_matches({text}, {pattern}), false)"
        reason = _unless(passed, f"{name} || ' is ' || {shown}",
                         f"', expected to match ' || {pattern}")
    else:
        least = check["atLeast"]
        amount = (f"CASE WHEN json_type({value}) = 'ARRAY' THEN json_array_length({value}) "
                  f"ELSE TRY_CAST({text} AS DOUBLE) END")
        passed = f"coalesce({amount} >= {literal(least)}, false)"
        reason = _unless(passed, f"{name} || ' is ' || coalesce(CAST({amount} AS VARCHAR), "
                         "'missing')", f"', expected at least ' || {literal(_as_text(least))}")
    return f"SELECT t.ref, {passed} AS passed, {reason} AS reason {_BASE}"


def _unless(passed: str, said: str, expected: str) -> str:
    """The reason: what the value is, and what was expected when the check fails."""
    return f"CASE WHEN {passed} THEN {said} ELSE {said} || {expected} END"


def _relation(check: dict[str, Any]) -> str:
    incoming = check.get("direction") == "incoming"
    near, far = ("target", "source") if incoming else ("source", "target")
    least = int(check.get("atLeast", 1))
    kind = check.get("kind")
    only_kind = f" AND r.{far} LIKE {literal(kind.lower() + ':%')}" if kind else ""
    edges = (f"SELECT r.{near} AS ref, count(*) AS n FROM relations r "
             f"WHERE r.type = {literal(check['type'])}{only_kind} "
             f"AND r.{near} IN (SELECT ref FROM {TARGETS}) GROUP BY r.{near}")
    count = "coalesce(c.n, 0)"
    described = check["type"] + (" (incoming)" if incoming else "") + \
        (f" to {kind}" if kind and not incoming else f" from {kind}" if kind else "")
    passed = f"{count} >= {least}"
    reason = _unless(passed, f"CAST({count} AS VARCHAR) || {literal(f' {described} relation(s)')}",
                     literal(f", expected at least {least}"))
    return (f"SELECT t.ref, {passed} AS passed, {reason} AS reason FROM {TARGETS} t "
            f"LEFT JOIN ({edges}) c ON c.ref = t.ref")


def _annotation(key: str) -> str:
    key_path = '$."' + key.replace('"', '\\"') + '"'  # one key, dots and all
    value = f"json_extract_string(e.annotations, {literal(key_path)})"
    passed = f"coalesce({value} <> '', false)"
    name = literal(key)
    reason = (f"CASE WHEN {passed} THEN 'annotation ' || {name} || ' is set' "
              f"ELSE 'annotation ' || {name} || ' is missing' END")
    return f"SELECT t.ref, {passed} AS passed, {reason} AS reason {_BASE}"


def _link(check: dict[str, Any]) -> str:
    links = "CAST(coalesce(json_extract(e.metadata, '$.links'), '[]') AS JSON[])"
    pattern = check.get("matches")
    if pattern:
        text = ("coalesce(json_extract_string(l, '$.title'), '') || ' ' || "
                "coalesce(json_extract_string(l, '$.url'), '')")
        count = f"len(list_filter({links}, lambda l: regexp_matches({text}, {literal(pattern)})))"
        wanted = f"link matching {pattern}"
    else:
        count, wanted = f"len({links})", "link"
    reason = (f"CASE WHEN {count} > 0 THEN {literal('has a ' + wanted)} "
              f"ELSE {literal('no ' + wanted)} END")
    return f"SELECT t.ref, {count} > 0 AS passed, {reason} AS reason {_BASE}"


def _git(check: dict[str, Any]) -> str:
    if "committedWithinDays" in check:
        days = int(check["committedWithinDays"])
        age = "date_diff('day', e.updated_at, now()::TIMESTAMP)"
        passed = f"coalesce({age} <= {days}, false)"
        reason = (f"CASE WHEN e.updated_at IS NULL THEN 'no commit is known' ELSE "
                  f"'last commit ' || CAST({age} AS VARCHAR) || ' day(s) ago, expected at most "
                  f"{days}' END")
        return f"SELECT t.ref, {passed} AS passed, {reason} AS reason {_BASE}"
    least = int(check["authorsAtLeast"])
    authors = ("SELECT fc.path, count(DISTINCT lower(fc.author_email)) AS n "
               "FROM file_commits fc WHERE fc.path IN (SELECT e2.path FROM entities e2 "
               f"JOIN {TARGETS} t2 ON t2.ref = e2.ref) GROUP BY fc.path")
    count = "coalesce(a.n, 0)"
    passed = f"{count} >= {least}"
    reason = _unless(passed, f"CAST({count} AS VARCHAR) || ' author(s)'",
                     literal(f", expected at least {least}"))
    return (f"SELECT t.ref, {passed} AS passed, {reason} AS reason {_BASE} "
            f"LEFT JOIN ({authors}) a ON a.path = e.path")


def _sql(query: str) -> str:
    inner = guarded_select(query)
    return (f"SELECT t.ref, coalesce(bool_and(q.passed), false) AS passed, "
            f"coalesce(string_agg(q.reason, '; '), 'not returned by the rule''s query') "
            f"AS reason FROM {TARGETS} t LEFT JOIN ({inner}) q ON q.ref = t.ref "
            f"GROUP BY t.ref")


_BUILDERS = {"field": _field, "relation": _relation, "annotation": _annotation,
             "link": _link, "git": _git, "sql": _sql}
