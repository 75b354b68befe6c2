"""Fill `scorecard_results` and `scorecard_levels`: for the whole index, or a few entities.

`score_all` runs at every build; `rescore` after an incremental update, for the entities
whose rows or edges changed (and everything again when a Scorecard itself changed). Each
rule is one query over the scorecard's target entities; levels and scores are then one
aggregate per scorecard. A rule whose own SQL fails or runs too long fails for every
entity, with the reason, and does not stop the build.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from ..index.schema import first_line
from .checks import TARGETS, literal, rule_query
from .model import Rule, Scorecard, scorecard_from
from .sql_guard import TIME_LIMIT_SECONDS, RuleSQLError, run_limited

SCORECARD_PREFIX = "scorecard:"


def load_scorecards(con: duckdb.DuckDBPyConnection) -> list[Scorecard]:
    """Every Scorecard entity in the index, in name order."""
    rows = con.execute("SELECT name, title, description, spec FROM entities "
                       "WHERE lower(kind) = 'scorecard' ORDER BY name, ref").fetchall()
    cards = [scorecard_from(name, title, description, spec)
             for name, title, description, spec in rows]
    return [card for card in cards if card is not None]


def score_all(con: duckdb.DuckDBPyConnection,
              time_limit: float = TIME_LIMIT_SECONDS) -> int:
    """Evaluate every scorecard over the whole index; returns the number of result rows."""
    con.execute("DELETE FROM scorecard_results")
    con.execute("DELETE FROM scorecard_levels")
    for card in load_scorecards(con):
        _evaluate(con, card, None, time_limit)
    return con.execute("SELECT count(*) FROM scorecard_results").fetchone()[0]


def rescore(con: duckdb.DuckDBPyConnection, refs: Collection[str],
            time_limit: float = TIME_LIMIT_SECONDS) -> set[str]:
    """Evaluate again for `refs` only (their old rows go first), or everything when one of
    them is a Scorecard. Returns the refs whose scores may have changed beyond `refs`
    (every scored entity when a Scorecard changed), for the pages to render again.

    Runs outside any transaction of the caller: a rule's SQL that fails must fail that
    rule alone, not abort the update it follows.
    """
    if not refs:
        return set()
    if any(ref.startswith(SCORECARD_PREFIX) for ref in refs):
        before = _scored(con)
        score_all(con, time_limit)
        return before | _scored(con)
    listed = sorted(refs)
    for table in ("scorecard_results", "scorecard_levels"):
        con.execute(f"DELETE FROM {table} WHERE ref IN (SELECT unnest(?))", [listed])
    for card in load_scorecards(con):
        _evaluate(con, card, listed, time_limit)
    return set()


def _scored(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {ref for (ref,) in con.execute("SELECT DISTINCT ref FROM scorecard_levels")
            .fetchall()}


def _targets_query(card: Scorecard, refs: list[str] | None) -> tuple[str, list]:
    """The refs `card` applies to (among `refs` when given)."""
    kinds = ", ".join(literal(kind.lower()) for kind in card.kinds) or "NULL"
    where = [f"lower(kind) IN ({kinds})"]
    params: list = []
    for key, values in card.filter.items():
        listed = ", ".join(literal(value) for value in values)
        if key == "tags":
            where.append(f"list_has_any(tags, [{listed}]::VARCHAR[])")
        elif key in ("lifecycle", "type", "owner", "namespace"):
            where.append(f"{key} IN ({listed})")
    if refs is not None:
        where.append("ref IN (SELECT unnest(?))")
        params.append(refs)
    return f"SELECT ref FROM entities WHERE {' AND '.join(where)}", params


def _evaluate(con: duckdb.DuckDBPyConnection, card: Scorecard, refs: list[str] | None,
              time_limit: float) -> None:
    rules = card.usable_rules()
    if not rules:
        return
    query, params = _targets_query(card, refs)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TARGETS} AS {query}", params)
    for rule in rules:
        _run_rule(con, card, rule, time_limit)
    con.execute("CREATE OR REPLACE TEMP TABLE score_rules (rule VARCHAR, level_index "
                "INTEGER, weight DOUBLE)")
    con.executemany("INSERT INTO score_rules VALUES (?, ?, ?)",
                    [(rule.id, card.level_index(rule.level), rule.weight) for rule in rules])
    levels = "[" + ", ".join(literal(level) for level in card.levels) + "]::VARCHAR[]"
    con.execute(f"""
        INSERT INTO scorecard_levels
        WITH scored AS (
            SELECT res.ref,
                   min(CASE WHEN NOT res.passed THEN m.level_index END) AS first_failing,
                   100.0 * sum(CASE WHEN res.passed THEN m.weight ELSE 0 END) / sum(m.weight)
                       AS score
            FROM scorecard_results res JOIN score_rules m ON m.rule = res.rule
            WHERE res.scorecard = ? AND res.ref IN (SELECT ref FROM {TARGETS})
            GROUP BY res.ref)
        SELECT ?, ref,
               CASE WHEN first_failing IS NULL THEN list_extract({levels}, {len(card.levels)})
                    WHEN first_failing = 0 THEN NULL
                    ELSE list_extract({levels}, first_failing) END,
               round(score, 1)
        FROM scored""", [card.name, card.name])
    con.execute(f"DROP TABLE {TARGETS}")
    con.execute("DROP TABLE score_rules")


def _run_rule(con: duckdb.DuckDBPyConnection, card: Scorecard, rule: Rule,
              time_limit: float) -> None:
    """Insert the rule's result for every target; a failing query fails the rule."""
    head = f"INSERT INTO scorecard_results SELECT {literal(card.name)}, ref, {literal(rule.id)}"
    try:
        query = rule_query(rule)
        if rule.check == "sql":
            run_limited(con, lambda: con.execute(f"{head}, passed, reason FROM ({query})"),
                        time_limit)
        else:
            con.execute(f"{head}, passed, reason FROM ({query})")
        return
    except RuleSQLError as exc:
        reason = str(exc)
    except duckdb.InterruptException:
        reason = f"the rule's query ran longer than {time_limit:g} s and was stopped"
    except duckdb.Error as exc:
        reason = f"the rule's query failed: {first_line(exc)}"
    con.execute(f"{head}, false, ? FROM {TARGETS}", [reason])
