"""Ranked search over the index in plain DuckDB SQL (no extension, works offline).

Ranking tiers, best first (docs/index.md has the evidence behind the choice of plain SQL):

1000  the name is the query (`payment-api`, `Payment API`, `payment api`)
 800  the name starts with the query (`pay`, `payment`)
 600  every query word is a whole word of the name, title, tags or owner
 400  every query word is a whole word somewhere, description included
 200  every query word starts a word somewhere (`pay` in "payments team")
 100  every query word occurs inside some word (`ment` in "payment")

Within a tier, +50 when every query word starts a word of the name; then shorter names and
alphabetical order. Every query word must match somewhere, so words narrow the result.
"""

from __future__ import annotations

from typing import Any

import duckdb

from .rows import words

MAX_LIMIT = 500
"""The most results one query returns."""

_COLUMNS = ("kind", "namespace", "name", "title", "description", "owner", "tags", "ref")


def _all(template: str, tokens: list[str], params: list[Any], wrap: str) -> str:
    """`template` (with `{p}` for a parameter) AND-ed over tokens, each wrapped by `wrap`."""
    clauses = []
    for token in tokens:
        params.extend([wrap.format(token)] * template.count("{p}"))
        clauses.append("(" + template.replace("{p}", "?") + ")")
    return " AND ".join(clauses)


def search(con: duckdb.DuckDBPyConnection, query: str, kind: str | None = None,
           limit: int = 20) -> list[dict[str, Any]]:
    """Entities matching `query`, best first, as dicts of `_COLUMNS` plus `score`.

    An empty query (no letters or digits) finds nothing. `kind` is case-insensitive.
    """
    tokens = list(dict.fromkeys(words(query)))
    if not tokens or limit < 1:
        return []
    limit = min(limit, MAX_LIMIT)
    compact = "-".join(tokens)
    params: list[Any] = []
    anywhere = "contains(name_words, {p}) OR contains(title_words, {p}) " \
               "OR contains(description_words, {p})"
    where = _all(anywhere, tokens, params, "{}")
    if kind:
        where += " AND lower(kind) = ?"
        params.append(kind.lower())
    score_params: list[Any] = [compact, compact]
    named = "contains(name_words, {p}) OR contains(title_words, {p})"
    whole_named = _all(named, tokens, score_params, " {} ")
    whole_any = _all(anywhere, tokens, score_params, " {} ")
    prefix_any = _all(anywhere, tokens, score_params, " {}")
    name_prefix = _all("contains(name_words, {p})", tokens, score_params, " {}")
    sql = f"""
        SELECT {", ".join(_COLUMNS)},
               CASE WHEN name = ? THEN 1000
                    WHEN starts_with(name, ?) THEN 800
                    WHEN {whole_named} THEN 600
                    WHEN {whole_any} THEN 400
                    WHEN {prefix_any} THEN 200
                    ELSE 100 END
               + CASE WHEN {name_prefix} THEN 50 ELSE 0 END AS score
        FROM entities
        WHERE {where}
        ORDER BY score DESC, length(name), name, namespace, kind
        LIMIT {int(limit)}
    """
    rows = con.execute(sql, score_params + params).fetchall()
    names = (*_COLUMNS, "score")
    return [dict(zip(names, row, strict=True)) for row in rows]
