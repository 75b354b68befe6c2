"""What the results say, for people and scripts: the site, the API and `gantry score`.

Every function reads the index only (the entities table for each scorecard's levels and
rules, the two result tables for outcomes). "Below the first level" is the level None,
shown as `BELOW` by callers that need a label.
"""

from __future__ import annotations

from typing import Any

import duckdb

from .evaluate import load_scorecards
from .model import Scorecard

BELOW = "Below first level"
"""How an entity that does not reach the first level is labelled."""


def _card_dict(card: Scorecard) -> dict[str, Any]:
    return {"name": card.name, "title": card.title, "description": card.description,
            "appliesTo": list(card.kinds), "levels": list(card.levels)}


def _distribution(card: Scorecard, counts: dict[str | None, int]) -> list[dict[str, Any]]:
    """Counts per level, lowest first, with "below the first level" before them."""
    return [{"level": level, "label": level or BELOW, "count": counts.get(level, 0)}
            for level in (None, *card.levels)]


def scorecards(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every scorecard with how many entities sit at each level."""
    counts: dict[str, dict[str | None, int]] = {}
    for name, level, count in con.execute(
            "SELECT scorecard, level, count(*) FROM scorecard_levels GROUP BY ALL").fetchall():
        counts.setdefault(name, {})[level] = count
    found = []
    for card in load_scorecards(con):
        mine = counts.get(card.name, {})
        found.append({**_card_dict(card), "entities": sum(mine.values()),
                      "distribution": _distribution(card, mine)})
    return found


def scorecard(con: duckdb.DuckDBPyConnection, name: str, entity_limit: int | None = None
              ) -> dict[str, Any] | None:
    """One scorecard: its distribution, a row per owning team, its rules from the most
    failed, and its entities from the lowest score (the first `entity_limit` of them when
    given); None when there is no such scorecard."""
    card = next((c for c in load_scorecards(con) if c.name == name), None)
    if card is None:
        return None
    limit = "" if entity_limit is None else f" LIMIT {int(entity_limit)}"
    entities = [{"ref": ref, "kind": kind, "namespace": namespace, "name": entity_name,
                 "title": title, "owner": owner, "level": level, "score": score}
                for ref, kind, namespace, entity_name, title, owner, level, score in
                con.execute(f"""
                    SELECT s.ref, e.kind, e.namespace, e.name, e.title, e.owner, s.level,
                           s.score
                    FROM scorecard_levels s JOIN entities e ON e.ref = s.ref
                    WHERE s.scorecard = ? ORDER BY s.score, e.name, s.ref{limit}""",
                            [name]).fetchall()]
    counts: dict[str | None, int] = {}
    teams: dict[str, dict[str | None, int]] = {}
    for owner, level, count in con.execute(
            "SELECT coalesce(e.owner, ''), s.level, count(*) FROM scorecard_levels s "
            "JOIN entities e ON e.ref = s.ref WHERE s.scorecard = ? GROUP BY ALL",
            [name]).fetchall():
        counts[level] = counts.get(level, 0) + count
        teams.setdefault(owner, {})[level] = count
    outcome = {rule: (passed, failed) for rule, passed, failed in con.execute(
        "SELECT rule, count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed) "
        "FROM scorecard_results WHERE scorecard = ? GROUP BY rule", [name]).fetchall()}
    rules = [{"id": rule.id, "title": rule.title, "level": rule.level, "weight": rule.weight,
              "check": rule.check, "passed": outcome.get(rule.id, (0, 0))[0],
              "failed": outcome.get(rule.id, (0, 0))[1]} for rule in card.usable_rules()]
    rules.sort(key=lambda rule: (-rule["failed"], card.level_index(rule["level"]), rule["id"]))
    return {**_card_dict(card), "entityCount": sum(counts.values()), "entities": entities,
            "distribution": _distribution(card, counts),
            "teams": [{"owner": owner or None, "entities": sum(team.values()),
                       "distribution": _distribution(card, team)}
                      for owner, team in sorted(teams.items())],
            "rules": rules}


def entity_scores(con: duckdb.DuckDBPyConnection, ref: str) -> list[dict[str, Any]]:
    """Each scorecard that scores `ref`: its level, score and every rule's outcome."""
    return scores_by_entity(con, [ref]).get(ref, [])


def scores_by_entity(con: duckdb.DuckDBPyConnection, refs: list[str]
                     ) -> dict[str, list[dict[str, Any]]]:
    """`entity_scores` for many refs in two queries (a batch of site pages)."""
    levels: dict[str, dict[str, tuple]] = {}
    for card, ref, level, score in con.execute(
            "SELECT scorecard, ref, level, score FROM scorecard_levels "
            "WHERE ref IN (SELECT unnest(?))", [refs]).fetchall():
        levels.setdefault(ref, {})[card] = (level, score)
    if not levels:
        return {}
    outcome: dict[tuple[str, str, str], tuple] = {}
    for card, ref, rule, passed, reason in con.execute(
            "SELECT scorecard, ref, rule, passed, reason FROM scorecard_results "
            "WHERE ref IN (SELECT unnest(?))", [sorted(levels)]).fetchall():
        outcome[(card, ref, rule)] = (passed, reason)
    cards = load_scorecards(con)
    found: dict[str, list[dict[str, Any]]] = {}
    for ref, mine in levels.items():
        for card in cards:
            if card.name not in mine:
                continue
            level, score = mine[card.name]
            rules = [{"id": rule.id, "title": rule.title, "level": rule.level,
                      "weight": rule.weight, "passed": outcome[(card.name, ref, rule.id)][0],
                      "reason": outcome[(card.name, ref, rule.id)][1]}
                     for rule in card.usable_rules() if (card.name, ref, rule.id) in outcome]
            rules.sort(key=lambda rule, card=card: card.level_index(rule["level"]))
            found.setdefault(ref, []).append({**_card_dict(card), "level": level,
                                              "label": level or BELOW, "score": score,
                                              "rules": rules})
    return found


def levels_by_entity(con: duckdb.DuckDBPyConnection, only: str | None = None
                     ) -> dict[tuple[str, str], str | None]:
    """(scorecard, ref) → level, for comparing two revisions."""
    query = "SELECT scorecard, ref, level FROM scorecard_levels"
    rows = con.execute(query + " WHERE scorecard = ?", [only]).fetchall() if only else \
        con.execute(query).fetchall()
    return {(card, ref): level for card, ref, level in rows}
