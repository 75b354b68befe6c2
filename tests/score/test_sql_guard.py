"""A rule's SQL: one SELECT only, and stopped when it runs too long."""

from __future__ import annotations

import time

import duckdb
import pytest

from generator.index.schema import create_tables
from generator.score.evaluate import score_all
from generator.score.sql_guard import RuleSQLError, guarded_select

from .conftest import rule, scorecard


@pytest.mark.parametrize("query", ["DELETE FROM entities", "SELECT 1; DROP TABLE entities",
                                   "ATTACH 'x.db'", "COPY entities TO 'x.csv'",
                                   "CREATE TABLE t AS SELECT 1"])
def test_only_one_select_is_accepted(query: str):
    with pytest.raises(RuleSQLError):
        guarded_select(query)


def _index_with(card: dict) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    create_tables(con)
    con.execute("INSERT INTO entities (ref, kind, namespace, name, spec) VALUES "
                "('scorecard:default/slow', 'Scorecard', 'default', 'slow', ?), "
                "('service:default/a', 'Service', 'default', 'a', '{}')",
                [__import__("json").dumps(card["spec"])])
    return con


def test_a_slow_rule_is_stopped_and_fails_with_the_reason():
    slow = ("SELECT 'service:default/a' AS ref, count(*) > 0 AS passed, 'x' AS reason "
            "FROM range(100000000) a, range(100000000) b")
    con = _index_with(scorecard("slow", [
        rule("slow", "Bronze", sql=slow),
        rule("fast", "Bronze", sql="SELECT ref, true AS passed, 'ok' AS reason FROM entities")]))
    started = time.monotonic()
    score_all(con, time_limit=0.5)
    assert time.monotonic() - started < 10
    found = dict(((r, (p, why)) for r, p, why in con.execute(
        "SELECT rule, passed, reason FROM scorecard_results").fetchall()))
    assert found["slow"] == (False, "the rule's query ran longer than 0.5 s and was stopped")
    assert found["fast"] == (True, "ok")
