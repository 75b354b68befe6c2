"""The graph walk: depth, direction, node ids, edge types, bounds and errors."""

from __future__ import annotations

import pytest

from generator.index.graph import EntityNotFound, graph, parse_target


def ids(result: dict) -> set[str]:
    return {node["id"] for node in result["nodes"]}


def edges(result: dict) -> set[tuple[str, str, str]]:
    return {(e["from"], e["type"], e["to"]) for e in result["edges"]}


def test_depth_one_both_directions(con):
    result = graph(con, "service/payment-api")
    assert result["nodes"][0] == {"id": "service/payment-api", "kind": "Service",
                                  "name": "payment-api", "namespace": "default",
                                  "title": "Payment API", "ref": "service:default/payment-api"}
    assert edges(result) == {
        ("service/payment-api", "dependsOn", "infrastructure/postgres-payments"),
        ("service/payment-api", "deployedIn", "environment/production"),
        ("service/payment-api", "providesApi", "api/payment-events"),
        ("service/payment-api", "consumesApi", "api/ledger-api"),
        ("service/payment-api", "ownedBy", "team/payments-team"),
        ("service/billing-worker", "dependsOn", "service/payment-api"),
        ("service/shop/cart-api", "dependsOn", "service/payment-api"),
        ("documentation/payment-runbook", "documents", "service/payment-api"),
    }
    assert result["truncated"] is False


def test_direction_out_and_in(con):
    out = graph(con, "service/payment-api", direction="out")
    assert all(e["from"] == "service/payment-api" for e in out["edges"])
    assert len(out["edges"]) == 5
    incoming = graph(con, "service/payment-api", direction="in")
    assert {e["from"] for e in incoming["edges"]} == {
        "service/billing-worker", "service/shop/cart-api", "documentation/payment-runbook"}
    assert all(e["to"] == "service/payment-api" for e in incoming["edges"])


def test_depth_two_reaches_further(con):
    one = graph(con, "api/ledger-api", direction="in")
    assert ids(one) == {"api/ledger-api", "service/payment-api"}
    two = graph(con, "api/ledger-api", depth=2, direction="in")
    assert ids(two) == {"api/ledger-api", "service/payment-api", "service/billing-worker",
                        "service/shop/cart-api", "documentation/payment-runbook"}
    out_two = graph(con, "service/billing-worker", depth=2, direction="out")
    assert "infrastructure/postgres-payments" in ids(out_two)
    assert "team/platform-team" in ids(out_two)


def test_every_edge_joins_returned_nodes(con):
    result = graph(con, "team/payments-team", depth=3)
    known = ids(result)
    assert all(e["from"] in known and e["to"] in known for e in result["edges"])
    assert len(known) > 5


def test_node_cap_truncates(con):
    result = graph(con, "team/platform-team", depth=3, max_nodes=4)
    assert len(result["nodes"]) == 4
    assert result["truncated"] is True
    assert result["nodes"][0]["id"] == "team/platform-team"


def test_namespaced_ids_and_lookup(con):
    result = graph(con, "service/cart-api", namespace="shop", direction="out")
    assert result["nodes"][0]["id"] == "service/shop/cart-api"
    assert graph(con, "Service/shop/cart-api")["nodes"][0]["namespace"] == "shop"
    assert graph(con, "service:shop/cart-api")["nodes"][0]["name"] == "cart-api"


@pytest.mark.parametrize("depth", [0, 6, -1])
def test_depth_bounds(con, depth):
    with pytest.raises(ValueError, match="depth"):
        graph(con, "service/payment-api", depth=depth)


def test_bad_direction_and_unknown_entity(con):
    with pytest.raises(ValueError, match="direction"):
        graph(con, "service/payment-api", direction="sideways")
    with pytest.raises(EntityNotFound, match="service:default/nope"):
        graph(con, "service/nope")
    with pytest.raises(ValueError, match="KIND/NAME"):
        parse_target("payment-api")
