"""After an update made in this process, search and graph structures are carried forward to
the new revision instead of reloaded: their answers must be those of a fresh load."""

from __future__ import annotations

import duckdb
import pytest

from generator.index import cache
from generator.index import graph as graphs
from generator.index.build import build_index
from generator.index.incremental import update_files
from generator.index.search import search, warm

from .conftest import document, write

QUERIES = ["zebra", "payment", "pay", "payment api", "checkout", "hub", "api", "a", "zeb",
           "platform", "ment", "team", "nothing-like-this",
           # a tag's inside and prefix, a description word: words outside the name
           "tripe", "strip", "herd", "herd zebra"]


def answers(con: duckdb.DuckDBPyConnection) -> dict:
    return {(query, kind, limit): search(con, query, kind=kind, limit=limit)
            for query in QUERIES for kind in (None, "service") for limit in (1, 3, 50)}


def names(results: list[dict]) -> list[str]:
    return [r["name"] for r in results]


def walks(con: duckdb.DuckDBPyConnection) -> dict:
    refs = [r for (r,) in con.execute("SELECT ref FROM entities ORDER BY ref").fetchall()]
    return {(ref, direction): graphs.graph(con, ref, depth=3, direction=direction)
            for ref in refs for direction in ("out", "in", "both")}


@pytest.fixture
def writable(small):
    con = duckdb.connect(str(small.index))
    warm(con)
    graphs.warm(con)
    yield con
    con.close()


def update(small, con, *paths: str) -> None:
    update_files(small.index, small.root, list(paths), con=con)
    revision = cache.revision_of(con)
    for name in ("search", "graph"):
        assert revision in cache.cached_revisions(name), f"{name} should have been carried"


def assert_same_as_fresh_load(con) -> dict:
    carried, carried_walks = answers(con), walks(con)
    cache.clear()
    fresh = answers(con)
    assert carried == fresh
    assert carried_walks == walks(con)
    return fresh


def test_updates_carry_the_word_index_forward(small, writable):
    write(small.root, "Service/payment-api.yaml", document(
        "Service", "payment-api", title="Payments Zebra Hub", owner="payments-team"))
    write(small.root, "Service/zebra-api.yaml", document(
        "Service", "zebra-api", title="Zebra", owner="platform-team", tags=["stripes"],
        description="Runs the herd",
        spec={"dependsOn": [{"kind": "Service", "name": "billing-worker"},
                            {"kind": "Infrastructure", "name": "postgres-payments"}],
              "consumesApis": ["ledger-api"]}))
    # a new entity whose ref sorts before the others pointing at the same target
    write(small.root, "Service/aardvark.yaml", document(
        "Service", "aardvark", owner="payments-team",
        spec={"dependsOn": [{"kind": "Infrastructure", "name": "postgres-payments"}]}))
    (small.root / "Service/checkout-web.yaml").unlink()
    update(small, writable, "Service/payment-api.yaml", "Service/zebra-api.yaml",
           "Service/aardvark.yaml", "Service/checkout-web.yaml")
    found = assert_same_as_fresh_load(writable)
    assert names(found[("zebra", None, 50)]) == ["zebra-api", "payment-api"]
    assert "checkout-web" not in names(found[("checkout", None, 50)])
    assert names(found[("hub", None, 50)]) == ["payment-api"]
    assert names(found[("tripe", None, 50)]) == names(found[("herd", None, 50)]) == ["zebra-api"]

    # a second round on top of the first: the overlay is replaced, not stacked
    write(small.root, "Service/zebra-api.yaml", document(
        "Service", "zebra-api", title="Okapi", owner="platform-team"))
    (small.root / "Service/payment-api.yaml").unlink()
    update(small, writable, "Service/zebra-api.yaml", "Service/payment-api.yaml")
    found = assert_same_as_fresh_load(writable)
    assert names(found[("zebra", None, 50)]) == ["zebra-api"]
    assert found[("hub", None, 50)] == []
    # billing-worker and cart-api depended on payment-api: those edges are gone
    around = graphs.graph(writable, "service/billing-worker", direction="out")
    assert [e["to"] for e in around["edges"]] == ["team/platform-team"]


def test_a_rebuild_is_seen_without_carrying(small):
    with small.connect() as con:
        assert names(search(con, "okapi")) == []
    write(small.root, "Service/okapi.yaml", document("Service", "okapi", title="Okapi"))
    build_index(small.root, small.index)
    with small.connect() as con:
        assert names(search(con, "okapi")) == ["okapi"]


def test_search_on_an_empty_index(tmp_path):
    (tmp_path / "catalog").mkdir()
    build_index(tmp_path / "catalog", tmp_path / "out")
    with duckdb.connect(str(tmp_path / "out" / "catalog.duckdb"), read_only=True) as con:
        assert search(con, "anything") == []
