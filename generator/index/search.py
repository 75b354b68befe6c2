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


def _each(template: str, tokens: list[str], params: list[Any], wrap: str, uses: int = 1
          ) -> str:
    """`template` (with `uses` `?`) AND-ed over the tokens, each token wrapped by `wrap`."""
    for token in tokens:
        params.extend([wrap.format(token)] * uses)
    return " AND ".join(f"({template})" for _ in tokens)


def search(con: duckdb.DuckDBPyConnection, query: str, kind: str | None = None,
           limit: int = 20) -> list[dict[str, Any]]:
    """Entities matching `query`, best first, as dicts of `_COLUMNS` plus `score`.

    An empty query (no letters or digits) finds nothing. `kind` is case-insensitive.
    The query runs in stages that read ever more text: names only, then names and titles,
    then everything; a stage that fills `limit` is the answer, since every row a later
    stage could add scores lower than every row it found.
    """
    tokens = list(dict.fromkeys(words(query)))
    if not tokens or limit < 1:
        return []
    limit = min(limit, MAX_LIMIT)
    compact = "-".join(tokens)
    score_params: list[Any] = [compact, compact]
    whole_named = _each("contains(name_words, ?) OR contains(title_words, ?)", tokens,
                        score_params, " {} ", 2)
    whole_any = _each("contains(search_text, ?)", tokens, score_params, " {} ")
    prefix_any = _each("contains(search_text, ?)", tokens, score_params, " {}")
    name_prefix = _each("contains(name_words, ?)", tokens, score_params, " {}")
    score = f"""CASE WHEN name = ? THEN 1000
                     WHEN starts_with(name, ?) THEN 800
                     WHEN {whole_named} THEN 600
                     WHEN {whole_any} THEN 400
                     WHEN {prefix_any} THEN 200
                     ELSE 100 END
                + CASE WHEN {name_prefix} THEN 50 ELSE 0 END"""
    named_params: list[Any] = []
    named = _each("contains(name_words, ?) OR contains(title_words, ?)", tokens,
                  named_params, " {} ", 2)
    anywhere_params: list[Any] = []
    anywhere = _each("contains(search_text, ?)", tokens, anywhere_params, "{}")
    stages = (("starts_with(name, ?)", [compact]),
              (f"(starts_with(name, ?) OR ({named}))", [compact, *named_params]),
              (anywhere, anywhere_params))
    rows: list[tuple] = []
    for where, where_params in stages:
        params = [*score_params, *where_params]
        if kind:
            where += " AND lower(kind) = ?"
            params.append(kind.lower())
        rows = con.execute(f"""
            SELECT {", ".join(_COLUMNS)}, {score} AS score
            FROM entities
            WHERE {where}
            ORDER BY score DESC, length(name), name, namespace, kind
            LIMIT {int(limit)}""", params).fetchall()
        if len(rows) >= limit:
            break
    names = (*_COLUMNS, "score")
    return [dict(zip(names, row, strict=True)) for row in rows]
