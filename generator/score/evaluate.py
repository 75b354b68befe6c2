"""Fill `scorecard_results` and `scorecard_levels`: for the whole index, or a few entities.

`score_all` runs at every build; `rescore` after an incremental update, for the entities
whose rows or edges changed (and everything again when a Scorecard itself changed). A
scorecard's declarative rules are one query over its target entities and each SQL rule one
more; levels and scores are then one aggregate. A rule whose own SQL fails or runs too long
fails for every entity, with the reason, and does not stop the build.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from ..index.schema import create_index, first_line, recreate_table
from .checks import ALL_TARGETS, TARGETS, literal, rule_query, scope_of
from .model import Rule, Scorecard, scorecard_from
from .sql_guard import TIME_LIMIT_SECONDS, RuleSQLError, run_limited

SCORECARD_PREFIX = "scorecard:"


def load_scorecards(con: duckdb.DuckDBPyConnection) -> list[Scorecard]:
    """Every Scorecard entity in the index, in name order."""
    # A range of refs (`scorecard:` up to `scorecard;`) is a lookup in the ART index on
    # entities(ref), not a scan of every entity: this runs after every write.
    rows = con.execute("SELECT name, title, description, spec FROM entities "
                       "WHERE ref >= 'scorecard:' AND ref < 'scorecard;' "
                       "ORDER BY name, ref").fetchall()
    cards = [scorecard_from(name, title, description, spec)
             for name, title, description, spec in rows]
    return [card for card in cards if card is not None]


def score_all(con: duckdb.DuckDBPyConnection,
              time_limit: float = TIME_LIMIT_SECONDS) -> int:
    """Evaluate every scorecard over the whole index; returns the number of result rows."""
    _score(con, load_scorecards(con), None, time_limit)
    return con.execute("SELECT count(*) FROM scorecard_results").fetchone()[0]


def rescore(con: duckdb.DuckDBPyConnection, refs: Collection[str],
            time_limit: float = TIME_LIMIT_SECONDS) -> set[str]:
    """Evaluate again for `refs` only (their old rows are replaced), or everything when one
    of them is a Scorecard. Returns the refs whose scores may have changed beyond `refs`
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
    _score(con, load_scorecards(con), sorted(refs), time_limit)
    return set()


def _scored(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {ref for (ref,) in con.execute("SELECT DISTINCT ref FROM scorecard_levels")
            .fetchall()}


def _score(con: duckdb.DuckDBPyConnection, cards: list[Scorecard], refs: list[str] | None,
           time_limit: float) -> None:
    """Stage every result in a temporary table (no write-ahead log, no commit per rule),
    then replace the rows of `refs` (all rows when None) in one transaction."""
    con.execute("CREATE OR REPLACE TEMP TABLE score_new (scorecard VARCHAR, ref VARCHAR, "
                "rule VARCHAR, passed BOOLEAN, reason VARCHAR)")
    staged = [card for card in cards if _stage(con, card, refs, time_limit)]
    con.begin()
    try:
        indexes: list[str] = []
        if refs is None:
            indexes = recreate_table(con, "scorecard_results") + \
                recreate_table(con, "scorecard_levels")
        else:
            scope = scope_of(refs)
            for table in ("scorecard_results", "scorecard_levels"):
                con.execute(f"DELETE FROM {table} WHERE ref IN {scope}")
        con.execute("INSERT INTO scorecard_results SELECT * FROM score_new")
        if staged:
            con.execute(_levels_query(staged))
        for name in indexes:
            create_index(con, name)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS score_new")
        con.execute(f"DROP TABLE IF EXISTS {TARGETS}")


def _levels_query(cards: list[Scorecard]) -> str:
    """Each scored entity's level and score, from the staged results of `cards`."""
    rules = ", ".join(f"({literal(card.name)}, {literal(rule.id)}, "
                      f"{card.level_index(rule.level)}, {rule.weight!r})"
                      for card in cards for rule in card.usable_rules())
    levels = ", ".join(f"({literal(card.name)}, ["
                       + ", ".join(literal(level) for level in card.levels) + "]::VARCHAR[])"
                       for card in cards)
    return f"""
        INSERT INTO scorecard_levels
        WITH rules (scorecard, rule, level_index, weight) AS (VALUES {rules}),
             cards (scorecard, levels) AS (VALUES {levels}),
             scored AS (
                SELECT n.scorecard, n.ref,
                       min(CASE WHEN NOT n.passed THEN m.level_index END) AS first_failing,
                       100.0 * sum(CASE WHEN n.passed THEN m.weight ELSE 0 END)
                           / sum(m.weight) AS score
                FROM score_new n
                JOIN rules m ON m.scorecard = n.scorecard AND m.rule = n.rule
                GROUP BY n.scorecard, n.ref)
        SELECT s.scorecard, s.ref,
               CASE WHEN s.first_failing IS NULL THEN list_extract(c.levels, len(c.levels))
                    WHEN s.first_failing = 0 THEN NULL
                    ELSE list_extract(c.levels, s.first_failing) END,
               round(s.score, 1)
        FROM scored s JOIN cards c ON c.scorecard = s.scorecard"""


def _targets_query(card: Scorecard, refs: list[str] | None) -> str:
    """The refs `card` applies to (among `refs` when given)."""
    kinds = ", ".join(literal(kind.lower()) for kind in card.kinds) or "NULL"
    where = [f"lower(kind) IN ({kinds})"]
    for key, values in card.filter.items():
        listed = ", ".join(literal(value) for value in values)
        if key == "tags":
            where.append(f"list_has_any(tags, [{listed}]::VARCHAR[])")
        elif key in ("lifecycle", "type", "owner", "namespace"):
            where.append(f"{key} IN ({listed})")
    if refs is not None:
        where.append(f"ref IN {scope_of(refs)}")
    return f"SELECT ref FROM entities WHERE {' AND '.join(where)}"


def _stage(con: duckdb.DuckDBPyConnection, card: Scorecard, refs: list[str] | None,
           time_limit: float) -> bool:
    """Stage `card`'s results: its declarative rules in one query, each SQL rule alone.
    False when it has nothing to score."""
    rules = card.usable_rules()
    if not rules:
        return False
    if refs is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TARGETS} AS {_targets_query(card, None)}")
        scope = ALL_TARGETS
    else:
        kinds = {kind.lower() for kind in card.kinds}
        targets = [ref for ref in refs if ref.partition(":")[0] in kinds]
        if targets and card.filter:
            targets = [ref for (ref,) in con.execute(_targets_query(card, targets)).fetchall()]
        elif targets:  # the ref names the kind; only entities that exist are scored
            targets = [ref for (ref,) in con.execute(
                f"SELECT ref FROM entities WHERE ref IN {scope_of(targets)}").fetchall()]
        if not targets:
            return False
        scope = scope_of(targets)
    declarative = []
    for rule in rules:
        if rule.check == "sql":
            _stage_sql_rule(con, card, rule, scope, time_limit)
            continue
        try:
            declarative.append((rule, f"SELECT {literal(rule.id)} AS rule, * "
                                      f"FROM ({rule_query(rule, scope)})"))
        except (KeyError, TypeError, ValueError) as exc:  # a check the schema would refuse
            _stage_failure(con, card, rule, scope, f"the rule cannot be evaluated: {exc!r}")
    head = f"INSERT INTO score_new SELECT {literal(card.name)}, ref, rule, passed, reason FROM"
    try:
        if declarative:
            con.execute(f"{head} ({' UNION ALL '.join(query for _, query in declarative)})")
    except duckdb.Error:  # one rule cannot run (a pattern RE2 refuses): each alone, then
        for rule, query in declarative:
            try:
                con.execute(f"{head} ({query})")
            except duckdb.Error as exc:
                _stage_failure(con, card, rule, scope, f"the rule failed: {first_line(exc)}")
    return True


def _stage_sql_rule(con: duckdb.DuckDBPyConnection, card: Scorecard, rule: Rule, scope: str,
                    time_limit: float) -> None:
    """A rule's own SQL, time-limited; a failing query fails the rule with the reason."""
    head = f"INSERT INTO score_new SELECT {literal(card.name)}, ref, {literal(rule.id)}"
    try:
        query = rule_query(rule, scope)
        run_limited(con, lambda: con.execute(f"{head}, passed, reason FROM ({query})"),
                    time_limit)
        return
    except RuleSQLError as exc:
        reason = str(exc)
    except duckdb.InterruptException:
        reason = f"the rule's query ran longer than {time_limit:g} s and was stopped"
    except duckdb.Error as exc:
        reason = f"the rule's query failed: {first_line(exc)}"
    _stage_failure(con, card, rule, scope, reason)


def _stage_failure(con: duckdb.DuckDBPyConnection, card: Scorecard, rule: Rule, scope: str,
                   reason: str) -> None:
    con.execute(f"INSERT INTO score_new SELECT ?, ref, ?, false, ? FROM entities "
                f"WHERE ref IN {scope}", [card.name, rule.id, reason])
