"""The REST API on a mixed catalog (Gantry and Backstage files side by side), through a real
`gantry serve`: reads, search, graph, and a write that keeps the Backstage file's comments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runner_process import RunnerProcess, git, make_catalog_repo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backstage"
MIXED_SERVICE = """\
apiVersion: gantry.io/v1
kind: Service
metadata:
  name: royalty-ledger
  owner: team-a          # a Backstage Group owns this Gantry Service
spec:
  type: backend
  lifecycle: production
  providesApis: [artist-api]
"""


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerProcess]:
    base = tmp_path_factory.mktemp("bs-api")
    extra = {f"catalog/backstage/{path.relative_to(EXAMPLE).as_posix()}": path.read_text()
             for path in EXAMPLE.rglob("*.yaml")}
    extra["catalog/backstage/ledger.yaml"] = MIXED_SERVICE
    repo = make_catalog_repo(base / "repo", extra_files=extra)
    with RunnerProcess(repo / "catalog", base / "data") as process:
        yield process


def test_backstage_entities_are_read_by_kind_and_name(runner: RunnerProcess) -> None:
    with runner.client() as client:
        component = client.get("/api/v1/entities/component/artist-lookup")
        user = client.get("/api/v1/entities/user/breanna.davison")
        api = client.get("/api/v1/entities/api/artist-api")
    assert component.status_code == 200, component.text
    assert component.json()["apiVersion"] == "backstage.io/v1alpha1"
    assert component.json()["spec"]["owner"] == "team-a"
    assert user.status_code == 200 and user.json()["kind"] == "User"
    assert api.json()["spec"]["type"] == "openapi"


def test_search_and_graph_cross_the_two_formats(runner: RunnerProcess) -> None:
    with runner.client() as client:
        found = client.get("/api/v1/search", params={"q": "artist lookup",
                                                     "kind": "component"}).json()
        graph = client.get("/api/v1/graph/group/team-a", params={"depth": 1}).json()
    names = [hit["name"] for hit in found["results"]] if isinstance(found, dict) else \
        [hit["name"] for hit in found]
    assert "artist-lookup" in names
    edges = {(e["from"], e["type"], e["to"]) for e in graph["edges"]}
    assert ("service/royalty-ledger", "ownedBy", "group/team-a") in edges
    assert ("group/team-a", "ownerOf", "component/artist-lookup") in edges


def test_a_write_keeps_the_backstage_file_and_its_comments(runner: RunnerProcess) -> None:
    path = runner.catalog / "backstage" / "systems" / "artists" / "catalog-info.yaml"
    before = path.read_text()
    with runner.client() as client:
        current = client.get("/api/v1/entities/component/artist-lookup")
        body = current.json()
        body["metadata"]["description"] = "Finds artists fast"
        response = client.put("/api/v1/entities/component/artist-lookup", json=body,
                              headers={"If-Match": current.headers["ETag"]})
        assert response.status_code == 200, response.text
        bad = dict(body, spec={**body["spec"], "owner": "nobody"})
        refused = client.put("/api/v1/entities/component/artist-lookup", json=bad)
    after = path.read_text()
    assert "# production after the Q3 review" in before
    assert after == before.replace("  description: Artist Lookup\n",
                                   "  description: Finds artists fast\n")
    assert response.json()["apiVersion"] == "backstage.io/v1alpha1"
    assert refused.status_code == 422
    assert "Group 'default/nobody' does not exist" in refused.text
    assert path.read_text() == after
    assert "Finds artists fast" in git(runner.catalog.parent, "show", "HEAD")
