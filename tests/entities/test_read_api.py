"""Read endpoints: entities, search, graph and schemas, with their roles and errors.

Contract checks: the app runs in process on the example catalog (the `api` fixture of
tests/conftest.py) and answers through Flask's test client.
"""

from __future__ import annotations

import pytest

from generator.load import load_catalog
from generator.structure.kinds import SchemaRegistry
from tests.runner.inprocess import InProcessApp


def loaded(api: InProcessApp) -> list[dict]:
    return [entity.data for entity in load_catalog(api.catalog).entities]


def names(entities: list[dict]) -> set[tuple[str, str, str]]:
    return {(e["kind"], e["metadata"].get("namespace", "default"), e["metadata"]["name"])
            for e in entities}


def test_list_every_entity(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get("/api/v1/entities")
    assert response.status_code == 200
    assert names(response.json()) == names(loaded(api))


@pytest.mark.parametrize("param, value", [("tag", "critical"), ("owner", "platform-team"),
                                          ("namespace", "data")])
def test_list_filters(api: InProcessApp, param: str, value: str) -> None:
    def keep(data: dict) -> bool:
        metadata = data["metadata"]
        if param == "tag":
            return value in metadata.get("tags", [])
        if param == "owner":
            return metadata.get("owner") == value
        return metadata.get("namespace", "default") == value

    expected = names([data for data in loaded(api) if keep(data)])
    assert expected, "the example catalog should exercise this filter"
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get("/api/v1/entities", params={param: value})
    assert names(response.json()) == expected


def test_filters_combine(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        both = client.get("/api/v1/entities", params={"tag": "critical",
                                                       "owner": "platform-team"}).json()
    assert both
    assert all("critical" in e["metadata"]["tags"] and e["metadata"]["owner"] ==
               "platform-team" for e in both)


@pytest.mark.parametrize("spelling", ["service", "Service", "SERVICE"])
def test_list_by_kind_is_case_insensitive(api: InProcessApp, spelling: str) -> None:
    expected = names([d for d in loaded(api) if d["kind"] == "Service"])
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get(f"/api/v1/entities/{spelling}")
    assert response.status_code == 200
    assert names(response.json()) == expected


def test_unknown_kind_is_a_json_404(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        for path in ("/api/v1/entities/widget", "/api/v1/entities/widget/x",
                     "/api/v1/schemas/widget", "/api/v1/graph/widget/x"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "unknown kind 'widget'" in response.json()["error"]


def test_get_entity_has_document_git_metadata_and_etag(api: InProcessApp) -> None:
    source = next(d for d in loaded(api) if d["metadata"]["name"] == "payment-api")
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get("/api/v1/entities/service/payment-api",
                              params={"namespace": "default"})
    assert response.status_code == 200
    body = response.json()
    metadata = body["metadata"]
    assert metadata.pop("createdBy") == "Gantry Tests"
    assert metadata.pop("createdAt").endswith("Z")
    assert metadata.pop("updatedAt").endswith("Z")
    assert body["spec"] == source["spec"]
    assert {k: v for k, v in metadata.items() if k != "namespace"} == source["metadata"]
    assert response.headers["ETag"].startswith('"')


def test_namespace_selects_the_entity(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        assert client.get("/api/v1/entities/service/reporting-service").status_code == 404
        found = client.get("/api/v1/entities/service/reporting-service",
                           params={"namespace": "data"})
    assert found.status_code == 200
    assert found.json()["metadata"]["namespace"] == "data"


def test_missing_entity_is_404(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get("/api/v1/entities/service/no-such-service")
    assert response.status_code == 404
    assert response.json() == {"error": "entity not found: Service 'default/no-such-service'"}


@pytest.mark.parametrize("path", ["/api/v1/entities", "/api/v1/entities/service/payment-api",
                                  "/api/v1/search?q=pay", "/api/v1/graph/service/payment-api",
                                  "/api/v1/schemas", "/api/v1/schemas/service"])
def test_reads_need_credentials(api: InProcessApp, path: str) -> None:
    response = api.http.get(api.url(path), timeout=30)
    assert response.status_code == 401
    assert "error" in response.json()
    bad = api.http.get(api.url(path), headers={"Authorization": "Bearer nope"},
                       timeout=30)
    assert bad.status_code == 401


def test_search_ranks_the_exact_name_first(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        for query in ("payment-api", "pay", "payment api", "Payment"):
            results = client.get("/api/v1/search", params={"q": query}).json()
            assert results[0]["name"] == "payment-api", query
            assert {"kind", "name", "title", "description", "owner", "tags"} <= set(results[0])


def test_search_kind_and_limit(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        apis = client.get("/api/v1/search", params={"q": "pay", "kind": "api"}).json()
        assert apis and all(r["kind"] == "API" for r in apis)
        one = client.get("/api/v1/search", params={"q": "a", "limit": 1}).json()
        assert len(one) == 1


@pytest.mark.parametrize("params, fragment", [({}, "q is required"),
                                              ({"q": "pay", "limit": "x"}, "whole number"),
                                              ({"q": "pay", "limit": "0"}, "between"),
                                              ({"q": "pay", "limit": "-1000"}, "between")])
def test_search_bad_parameters(api: InProcessApp, params: dict, fragment: str) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get("/api/v1/search", params=params)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_graph_depth_and_direction(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        one = client.get("/api/v1/graph/service/payment-api").json()
        ids = {node["id"] for node in one["nodes"]}
        assert "service/payment-api" in ids
        assert {"from": "service/payment-api", "to": "infrastructure/postgres-payments",
                "type": "dependsOn"} in [
            {k: e[k] for k in ("from", "to", "type")} for e in one["edges"]]
        outgoing = client.get("/api/v1/graph/service/payment-api",
                              params={"direction": "out"}).json()
        assert all(edge["from"] == "service/payment-api" for edge in outgoing["edges"])
        incoming = client.get("/api/v1/graph/service/payment-api",
                              params={"direction": "in"}).json()
        assert all(edge["to"] == "service/payment-api" for edge in incoming["edges"])
        deep = client.get("/api/v1/graph/service/payment-api", params={"depth": 3}).json()
        assert len(deep["nodes"]) > len(one["nodes"])


@pytest.mark.parametrize("params, status", [({"depth": "0"}, 400), ({"depth": "6"}, 400),
                                            ({"depth": "two"}, 400),
                                            ({"direction": "sideways"}, 400)])
def test_graph_bad_parameters(api: InProcessApp, params: dict, status: int) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        response = client.get("/api/v1/graph/service/payment-api", params=params)
    assert response.status_code == status
    assert "error" in response.json()


def test_graph_of_missing_entity_is_404(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        assert client.get("/api/v1/graph/service/ghost").status_code == 404


def test_schemas_list_and_one(api: InProcessApp) -> None:
    registry = SchemaRegistry()
    with api.http_client(api.tokens["viewer"]) as client:
        every = client.get("/api/v1/schemas").json()
        assert sorted(every) == registry.kinds()
        for spelling in ("service", "SERVICE", "Service"):
            one = client.get(f"/api/v1/schemas/{spelling}").json()
            expected = registry.schema("Service")
            assert one["$id"] == expected["$id"]
            assert one["properties"]["kind"] == {"const": "Service"}
            assert set(one["properties"]["spec"]["properties"]) == set(
                expected["properties"]["spec"]["properties"])


def test_list_paging(api: InProcessApp) -> None:
    with api.http_client(api.tokens["viewer"]) as client:
        every = client.get("/api/v1/entities/service").json()
        first = client.get("/api/v1/entities/service", params={"limit": 2}).json()
        rest = client.get("/api/v1/entities/service", params={"offset": 2}).json()
        assert first + rest == every and len(first) == 2
        for params in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}):
            response = client.get("/api/v1/entities", params=params)
            assert response.status_code == 400
            assert "whole number" in response.json()["error"]
