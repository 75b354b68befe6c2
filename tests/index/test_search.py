"""Ranking: exact name, then name prefix, then whole words in title/tags/owner, then
description, then partial words; hyphens and case do not matter."""

from __future__ import annotations

import pytest

from generator.index.search import search


def names(results: list[dict]) -> list[str]:
    return [r["name"] for r in results]


@pytest.mark.parametrize("query", ["pay", "payment api", "payment-api", "Payment",
                                   "PAYMENT-API", "payment  API"])
def test_payment_api_comes_first(con, query):
    assert names(search(con, query))[0] == "payment-api"


def test_tiers_in_order(con):
    results = search(con, "payment")
    order = names(results)
    # name prefix, then a whole word in tags, then description, then inside a word
    assert order.index("payment-api-gateway") < order.index("billing-worker")
    assert order.index("payment-api") < order.index("billing-worker")
    assert order.index("billing-worker") < order.index("checkout-web")
    assert order.index("checkout-web") < order.index("repayment-scheduler")
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_exact_name_beats_prefix(con):
    results = search(con, "payment-api")
    assert names(results)[:2] == ["payment-api", "payment-api-gateway"]
    assert results[0]["score"] > results[1]["score"]
    # the longer name wins when it is the exact one
    assert names(search(con, "payment api gateway"))[0] == "payment-api-gateway"


def test_name_prefix_beats_title_word(con):
    # "ledger-api" starts with "ledger"; "ledger-wiki" too; the runbook only has it nowhere
    order = names(search(con, "ledger"))
    assert set(order[:2]) == {"ledger-api", "ledger-wiki"}


def test_owner_is_a_whole_word_match(con):
    results = search(con, "platform")
    assert names(results)[0] == "platform-team"
    owned = {r["name"] for r in results if r["owner"] == "platform-team"}
    assert {"billing-worker", "checkout-web", "ledger-api"} <= owned


def test_description_only_match(con):
    assert names(search(con, "instalments")) == ["repayment-scheduler"]


def test_partial_word_inside(con):
    assert "repayment-scheduler" in names(search(con, "ayment"))


def test_every_word_must_match(con):
    assert names(search(con, "payment worker")) == ["billing-worker"]
    assert search(con, "payment zebra") == []


def test_kind_filter_is_case_insensitive(con):
    results = search(con, "payment", kind="api")
    assert names(results) == ["payment-events"]
    assert all(r["kind"] == "API" for r in results)


def test_limit_and_empty_query(con):
    assert len(search(con, "a", limit=3)) == 3
    assert search(con, "  -- ") == []
    assert search(con, "payment", limit=0) == []


def test_result_fields(con):
    first = search(con, "payment-api")[0]
    assert first == {"kind": "Service", "namespace": "default", "name": "payment-api",
                     "title": "Payment API", "description": "Handles all payment processing",
                     "owner": "payments-team", "tags": ["payments", "pci"],
                     "ref": "service:default/payment-api", "score": first["score"]}


def test_namespaced_entity_found(con):
    result = search(con, "cart")[0]
    assert (result["namespace"], result["ref"]) == ("shop", "service:shop/cart-api")


def test_sql_metacharacters_are_plain_text(con):
    assert search(con, "%' OR 1=1 --") == []
    assert names(search(con, "pay%"))[0] == "payment-api"


@pytest.mark.parametrize("query", ["pay", "payment", "api", "platform", "ment", "team", "a"])
def test_a_smaller_limit_gives_the_same_first_results(con, query):
    everything = search(con, query, limit=100)
    for limit in (1, 2, 3, 5):
        assert search(con, query, limit=limit) == everything[:limit]
