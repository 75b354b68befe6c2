"""Each rule's check as one SQL query over the index: `(ref, passed, reason)` per entity.

A query reads the entities of its `scope`: `(SELECT ref FROM score_targets)` when a whole
scorecard is evaluated (one set-based query per rule whatever the catalog's size), or a
literal list of refs when an update re-scores a few (`scope_of`), which DuckDB answers
through the ART indexes on `entities(ref)` and `relations(source)` instead of scanning.
Values from the scorecard are written as SQL literals (`literal`), never spliced in raw.
"""

from __future__ import annotations

from typing import Any

from .model import Rule
from .sql_guard import guarded_select

TARGETS = "score_targets"
"""The temporary table of refs being scored when a whole scorecard is evaluated."""
ALL_TARGETS = f"(SELECT ref FROM {TARGETS})"


def scope_of(refs: list[str]) -> str:
    """A literal list of refs, as a rule's scope."""
    return "(" + ", ".join(literal(ref) for ref in refs) + ")" if refs else "(NULL)"


def _base(scope: str) -> str:
    return f"FROM entities e WHERE e.ref IN {scope}"


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


def rule_query(rule: Rule, scope: str = ALL_TARGETS) -> str:
    """The query answering `rule` for every ref in `scope`."""
    build = _BUILDERS[rule.check]
    return build(rule.argument, scope)


def _field(check: dict[str, Any], scope: str) -> str:
    path = check["path"]
    head, _, rest = path.partition(".")
    # the spec or metadata column when the path is inside one: less JSON to parse per row
    column, inner = (f"e.{head}", rest) if head in ("spec", "metadata") and rest else \
        ("e.data", path)
    where = literal(_json_path(inner))
    value = f"json_extract({column}, {where})"
    text = f"json_extract_string({column}, {where})"
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
    return f"SELECT e.ref, {passed} AS passed, {reason} AS reason {_base(scope)}"


def _unless(passed: str, said: str, expected: str) -> str:
    """The reason: what the value is, and what was expected when the check fails."""
    return f"CASE WHEN {passed} THEN {said} ELSE {said} || {expected} END"


def _relation(check: dict[str, Any], scope: str) -> str:
    incoming = check.get("direction") == "incoming"
    near, far = ("target", "source") if incoming else ("source", "target")
    least = int(check.get("atLeast", 1))
    kind = check.get("kind")
    only_kind = f" AND r.{far} LIKE {literal(kind.lower() + ':%')}" if kind else ""
    # The entities' edges first, on their own: a filter on `source` (or `target`) alone is
    # a lookup in its ART index; combined with the type in one filter it is a scan.
    edges = (f"WITH mine AS MATERIALIZED (SELECT * FROM relations WHERE {near} IN {scope}) "
             f"SELECT r.{near} AS ref, count(*) AS n FROM mine r "
             f"WHERE r.type = {literal(check['type'])}{only_kind} GROUP BY r.{near}")
    count = "coalesce(c.n, 0)"
    described = check["type"] + (" (incoming)" if incoming else "") + \
        (f" to {kind}" if kind and not incoming else f" from {kind}" if kind else "")
    passed = f"{count} >= {least}"
    reason = _unless(passed, f"CAST({count} AS VARCHAR) || {literal(f' {described} relation(s)')}",
                     literal(f", expected at least {least}"))
    return (f"SELECT e.ref, {passed} AS passed, {reason} AS reason FROM entities e "
            f"LEFT JOIN ({edges}) c ON c.ref = e.ref WHERE e.ref IN {scope}")


def _annotation(key: str, scope: str) -> str:
    key_path = '$."' + key.replace('"', '\\"') + '"'  # one key, dots and all
    value = f"json_extract_string(e.annotations, {literal(key_path)})"
    passed = f"coalesce({value} <> '', false)"
    name = literal(key)
    reason = (f"CASE WHEN {passed} THEN 'annotation ' || {name} || ' is set' "
              f"ELSE 'annotation ' || {name} || ' is missing' END")
    return f"SELECT e.ref, {passed} AS passed, {reason} AS reason {_base(scope)}"


def _link(check: dict[str, Any], scope: str) -> str:
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
    return f"SELECT e.ref, {count} > 0 AS passed, {reason} AS reason {_base(scope)}"


def _git(check: dict[str, Any], scope: str) -> str:
    if "committedWithinDays" in check:
        days = int(check["committedWithinDays"])
        age = "date_diff('day', e.updated_at, now()::TIMESTAMP)"
        passed = f"coalesce({age} <= {days}, false)"
        reason = (f"CASE WHEN e.updated_at IS NULL THEN 'no commit is known' ELSE "
                  f"'last commit ' || CAST({age} AS VARCHAR) || ' day(s) ago, expected at most "
                  f"{days}' END")
        return f"SELECT e.ref, {passed} AS passed, {reason} AS reason {_base(scope)}"
    least = int(check["authorsAtLeast"])
    authors = ("SELECT fc.path, count(DISTINCT lower(fc.author_email)) AS n "
               "FROM file_commits fc WHERE fc.path IN (SELECT e2.path FROM entities e2 "
               f"WHERE e2.ref IN {scope}) GROUP BY fc.path")
    count = "coalesce(a.n, 0)"
    passed = f"{count} >= {least}"
    reason = _unless(passed, f"CAST({count} AS VARCHAR) || ' author(s)'",
                     literal(f", expected at least {least}"))
    return (f"SELECT e.ref, {passed} AS passed, {reason} AS reason FROM entities e "
            f"LEFT JOIN ({authors}) a ON a.path = e.path WHERE e.ref IN {scope}")


def _sql(query: str, scope: str) -> str:
    inner = guarded_select(query)
    return (f"SELECT e.ref, coalesce(bool_and(q.passed), false) AS passed, "
            f"coalesce(string_agg(q.reason, '; '), 'not returned by the rule''s query') "
            f"AS reason FROM entities e LEFT JOIN (SELECT * FROM ({inner}) "
            f"WHERE ref IN {scope}) q ON q.ref = e.ref WHERE e.ref IN {scope} GROUP BY e.ref")


_BUILDERS = {"field": _field, "relation": _relation, "annotation": _annotation,
             "link": _link, "git": _git, "sql": _sql}
