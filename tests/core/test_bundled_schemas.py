"""Self-contained schemas: what `/api/v1/schemas` answers validates on its own, offline,
and `schemas/gantry-yaml.json` describes the settings file without being a kind."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from generator.resources import schemas_dir
from generator.structure.bundle import published_schemas
from generator.structure.kinds import SchemaError, SchemaRegistry
from runner.app import create_app
from runner.catalog import dashboard
from runner.config import Settings
from tests.support.runner_process import SECRET_KEY, make_catalog_repo
from tests.support.schemas import (
    DRAFT_2020_12,
    PROJECT_ROOT,
    all_refs,
    example_documents,
    outside_refs,
)

from .conftest import write

ADMIN_PASSWORD = "schemas-admin-password"


class Api:
    """The runner app in process, called through Flask's test client as an admin."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    base = tmp_path_factory.mktemp("schemas-api")
    repo = make_catalog_repo(base / "repo")
    app = create_app(Settings(catalog=repo / "catalog", data_dir=base / "data",
                              secret_key=SECRET_KEY, admin_password=ADMIN_PASSWORD),
                     start_workspace=False)
    client = app.test_client()
    login = client.post("/api/v1/auth/login",
                        json={"username": "admin", "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.get_data(as_text=True)
    yield Api(client, login.get_json()["token"])


def errors_of(validator: Draft202012Validator, document: dict) -> list[tuple[str, str]]:
    return sorted((error.json_path, error.message) for error in validator.iter_errors(document))


def services() -> list[dict[str, Any]]:
    found = [document for _, document in example_documents() if document["kind"] == "Service"]
    assert len(found) >= 5
    return found


def test_served_service_schema_validates_the_example_services_alone(api: Api) -> None:
    response = api.get("/api/v1/schemas/service")
    assert response.status_code == 200
    schema = response.get_json()
    assert outside_refs(schema) == []
    assert "#/$defs/envelope/$defs/lifecycle" in all_refs(schema)
    assert schema["$schema"] == DRAFT_2020_12
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)  # no registry, nothing to retrieve
    for document in services():
        assert errors_of(validator, document) == [], document["metadata"]["name"]

    retired = copy.deepcopy(services()[0])
    retired["spec"]["lifecycle"] = "retired"
    assert errors_of(validator, retired) == [(
        "$.spec.lifecycle",
        "'retired' is not one of ['experimental', 'development', 'production', 'deprecated']")]

    # The envelope's own rules come along: metadata names, entity refs, unknown keys.
    renamed = copy.deepcopy(services()[1])
    renamed["metadata"]["name"] = "Checkout_Service"
    [(where, message)] = errors_of(validator, renamed)
    assert where == "$.metadata.name" and "does not match" in message
    wrong_ref = copy.deepcopy(services()[2])
    wrong_ref["spec"]["dependsOn"] = [{"kind": "service", "name": "ledger"}]
    [(where, message)] = errors_of(validator, wrong_ref)
    assert where == "$.spec.dependsOn[0].kind" and "'^[A-Z][A-Za-z0-9]*$'" in message
    extra = {**services()[3], "status": {"phase": "up"}}
    assert errors_of(validator, extra) == [
        ("$", "Additional properties are not allowed ('status' was unexpected)")]


def test_the_schema_file_alone_would_need_the_network() -> None:
    """The check above can fail: the unbundled file refers to an address no client can
    fetch, and a validator with nothing to retrieve from stops at that reference."""
    raw = json.loads((schemas_dir() / "service.json").read_text(encoding="utf-8"))
    assert outside_refs(raw)
    with pytest.raises(Unresolvable):
        Draft202012Validator(raw).validate(services()[0])


def test_every_served_kind_is_self_contained_and_checks_its_example_documents(
        api: Api) -> None:
    registry = SchemaRegistry()
    every = api.get("/api/v1/schemas").get_json()
    assert sorted(every) == registry.kinds()
    validators = {}
    for kind, schema in every.items():
        assert outside_refs(schema) == [], kind
        Draft202012Validator.check_schema(schema)
        assert schema == registry.bundled(kind)
        validators[kind] = Draft202012Validator(schema)
    checked = 0
    for path, document in example_documents():
        assert errors_of(validators[document["kind"]], document) == [], path
        checked += 1
    assert checked >= 40
    for spelling, kind in (("API", "API"), ("api", "API"), ("INFRASTRUCTURE", "Infrastructure"),
                           ("team", "Team")):
        assert api.get(f"/api/v1/schemas/{spelling}").get_json() == every[kind]


@pytest.mark.parametrize("kind", ["gantry-yaml", "gantry.yaml", "envelope", "catalog",
                                  "Service.json", "..", "widget"])
def test_files_that_are_not_kinds_are_not_served_as_kinds(api: Api, kind: str) -> None:
    response = api.get(f"/api/v1/schemas/{kind}")
    assert response.status_code == 404
    assert "unknown kind" in response.get_json()["error"]


SHARED = {
    "$schema": DRAFT_2020_12,
    "$defs": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "ports": {"type": "array", "items": {"$ref": "#/$defs/port"}},
        "tier": {"$anchor": "tier", "enum": ["gold", "silver"]},
    },
}
CLUSTER = {
    "$schema": DRAFT_2020_12,
    "x-gantry-kind": "DatabaseCluster",
    "allOf": [{"$ref": "envelope.json"}],
    "properties": {
        "kind": {"const": "DatabaseCluster"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ports": {"$ref": "shared.json#/$defs/ports"},
                "tier": {"$ref": "shared.json#tier"},
                "size": {"$ref": "#/$defs/shared"},
                "owner": {"$ref": "envelope.json#/$defs/scopedName"},
                "$ref": {"type": "string"},
            },
        },
    },
    "$defs": {"shared": {"enum": ["s", "m", "l"]}},
}


def cluster(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "gantry.io/v1", "kind": "DatabaseCluster",
            "metadata": {"name": "orders-db"}, "spec": spec}


def test_references_between_extra_schema_files_are_bundled(tmp_path: Path) -> None:
    write(tmp_path, "shared.json", json.dumps(SHARED))
    write(tmp_path, "database-cluster.json", json.dumps(CLUSTER))
    registry = SchemaRegistry([tmp_path])
    bundled = registry.bundled("databasecluster")
    assert outside_refs(bundled) == []
    # The kind's own `shared` definition keeps its name; the file gets another one.
    assert bundled["$defs"]["shared"] == {"enum": ["s", "m", "l"]}
    assert set(bundled["$defs"]) == {"shared", "envelope", "shared-2"}
    spec = bundled["properties"]["spec"]["properties"]
    assert spec["ports"] == {"$ref": "#/$defs/shared-2/$defs/ports"}
    assert spec["tier"] == {"$ref": "#/$defs/shared-2/$defs/tier"}
    assert spec["$ref"] == {"type": "string"}  # a property's name, not a reference
    alone = Draft202012Validator(bundled)
    full = registry.validator("DatabaseCluster")
    good = cluster(ports=[5432, 5433], tier="gold", size="m", owner="payments/dba",
                   **{"$ref": "x"})
    bad = [cluster(ports=[5432, 70000]), cluster(tier="bronze"), cluster(size="xl"),
           cluster(owner="Not A Team"), cluster(**{"$ref": 5}), cluster(extra=True),
           {**cluster(), "metadata": {"name": "UPPER"}}]
    assert alone.is_valid(good) and full.is_valid(good)
    for document in bad:
        assert not alone.is_valid(document), document
        assert errors_of(alone, document) == errors_of(full, document)


@pytest.mark.parametrize("ref", ["missing.json", "envelope.json#/$defs/nothing-here",
                                 "shared.json#no-such-anchor",
                                 "https://schemas.example.invalid/size.json"])
def test_a_reference_that_does_not_resolve_is_a_schema_error(tmp_path: Path, ref: str) -> None:
    write(tmp_path, "shared.json", json.dumps(SHARED))
    broken = copy.deepcopy(CLUSTER)
    broken["properties"]["spec"]["properties"]["size"] = {"$ref": ref}
    write(tmp_path, "database-cluster.json", json.dumps(broken))
    with pytest.raises(SchemaError, match="database-cluster.json") as caught:
        SchemaRegistry([tmp_path])
    assert repr(ref) in str(caught.value)


def test_a_kind_named_like_a_published_file_does_not_take_its_address(tmp_path: Path) -> None:
    kind = {**copy.deepcopy(CLUSTER), "x-gantry-kind": "Catalog"}
    kind["properties"]["kind"] = {"const": "Catalog"}
    kind["properties"]["spec"] = {"type": "object"}
    write(tmp_path, "catalog.json", json.dumps(kind))
    registry = SchemaRegistry([tmp_path])
    files = published_schemas(registry)
    assert files["kind-catalog.json"] == registry.bundled("Catalog")
    assert files["catalog.json"] == registry.bundled_catalog()
    assert "Catalog" in files["catalog.json"]["properties"]["kind"]["enum"]
    any_kind = Draft202012Validator(files["catalog.json"])
    assert any_kind.is_valid(cluster() | {"kind": "Catalog"})
    assert not any_kind.is_valid(cluster() | {"kind": "Catalog", "spec": []})
    backstage = {"api", "component", "domain", "environment", "group", "location", "resource",
                 "system", "user"}
    assert set(files) == {"action.json", "api.json", "documentation.json", "environment.json",
                          "infrastructure.json", "scorecard.json", "service.json", "team.json",
                          "kind-catalog.json", "catalog.json", "gantry-yaml.json",
                          *(f"backstage-{kind}.json" for kind in backstage),
                          *(f"{kind}.json" for kind in backstage - {"api", "environment"})}


GANTRY_YAML = schemas_dir() / "gantry-yaml.json"


def test_the_settings_schema_is_not_a_kind(tmp_path: Path) -> None:
    schema = json.loads(GANTRY_YAML.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    registry = SchemaRegistry()
    assert registry.kinds() == ["API", "Action", "Component", "Documentation", "Domain",
                                "Environment", "Group", "Infrastructure", "Location",
                                "Resource", "Scorecard", "Service", "System", "Team", "User"]
    for spelling in ("gantry-yaml", "gantry.yaml", "gantry_yaml", "GantryYaml"):
        assert registry.get(spelling) is None
    assert registry.bundled_document("gantry-yaml.json") == schema  # nothing to bundle
    # A non-kind file must not turn off the compiled fast check of every kind.
    for kind in registry.kinds():
        assert registry.is_valid(kind) != registry.validator(kind).is_valid, kind
    # The same file declaring a kind would be one: the checks above can fail.
    write(tmp_path, "gantry-yaml.json", json.dumps({**schema, "x-gantry-kind": "GantryYaml"}))
    assert SchemaRegistry([tmp_path]).get("GantryYaml") is not None


def settings_validator(part: str | None = None) -> Draft202012Validator:
    schema = SchemaRegistry().bundled_document("gantry-yaml.json")
    assert schema is not None
    if part is not None:
        schema = {"$schema": DRAFT_2020_12, "$defs": schema["$defs"],
                  "$ref": f"#/$defs/{part}"}
    return Draft202012Validator(schema)


def test_the_repository_gantry_yaml_is_valid_and_typos_are_not() -> None:
    validator = settings_validator()
    settings = yaml.safe_load((PROJECT_ROOT / "gantry.yaml").read_text(encoding="utf-8"))
    assert errors_of(validator, settings) == []
    assert validator.is_valid(None)  # an empty file: no settings
    # Keys the runner keeps but does not manage are allowed at the top.
    assert validator.is_valid({**settings, "exclude": ["catalog/drafts/**"]})
    assert validator.is_valid({**settings, "runnerUrl": "/"})
    wrong = [("runnerUrl", "gantry.acme.com"), ("repoUrl", "git@github.com:acme/c.git"),
             ("title", 5), ("quickLinks", [{"title": "Wiki", "link": "https://wiki"}]),
             ("widgets", [{"id": "quick_links", "enabled": "no"}])]
    for key, value in wrong:
        assert not validator.is_valid({**settings, key: value}), key


GOOD_DASHBOARDS = [
    {"widgets": [{"id": "entity_stats"}]},
    {"widgets": [{"id": "from-a-newer-version", "enabled": False}]},
    {"widgets": [{"id": f"w{i}"} for i in range(100)]},
    {"announcements": [{"title": "Freeze", "message": "No deploys on Friday"}]},
    {"announcements": [{"title": "T", "message": "M", "severity": "critical"}]},
    {"quickLinks": [{"title": "Grafana", "url": "https://grafana.example.com/d/1?o=2#p"}]},
    {"quickLinks": [{"title": "Old wiki", "url": "HTTP://WIKI.EXAMPLE.COM"}]},
    {"widgets": [], "announcements": [], "quickLinks": []},
    {"announcements": [{"title": "x" * 2000, "message": "y"}]},
]
BAD_DASHBOARDS = [
    {},
    {"title": "Renamed"},
    {"widgets": [], "runnerUrl": "https://gantry.example.com"},
    {"widgets": None},
    {"widgets": {"id": "entity_stats"}},
    {"widgets": ["entity_stats"]},
    {"widgets": [{"id": f"w{i}"} for i in range(101)]},
    {"widgets": [{"id": ""}]},
    {"widgets": [{"id": " \t "}]},
    {"widgets": [{"id": 7}]},
    {"widgets": [{"enabled": True}]},
    {"widgets": [{"id": "entity_stats", "enabled": "yes"}]},
    {"widgets": [{"id": "entity_stats", "order": 1}]},
    {"announcements": [{"title": "T"}]},
    {"announcements": [{"message": "M"}]},
    {"announcements": [{"title": "T", "message": "M", "severity": "urgent"}]},
    {"announcements": [{"title": "T", "message": "M", "severity": None}]},
    {"announcements": [{"title": "T", "message": "M", "level": "info"}]},
    {"announcements": [{"title": "x" * 2001, "message": "y"}]},
    {"quickLinks": [{"title": "Files", "url": "ftp://files.example.com"}]},
    {"quickLinks": [{"title": "Script", "url": "javascript:alert(1)"}]},
    {"quickLinks": [{"title": "Nothing", "url": "https://"}]},
    {"quickLinks": [{"title": "No host", "url": "https:///path"}]},
    {"quickLinks": [{"title": "Relative", "url": "/docs"}]},
    {"quickLinks": [{"title": "No URL"}]},
    {"quickLinks": [{"title": "Desc", "url": "https://e.example", "description": "d"}]},
    {"quickLinks": [{"title": 3, "url": "https://e.example"}]},
]


@pytest.mark.parametrize("body", GOOD_DASHBOARDS + BAD_DASHBOARDS)
def test_the_settings_schema_and_the_runner_refuse_the_same_dashboards(body: dict) -> None:
    try:
        dashboard.validate(copy.deepcopy(body))
        runner_accepts = True
    except dashboard.DashboardError:
        runner_accepts = False
    assert runner_accepts == (body in GOOD_DASHBOARDS)
    assert settings_validator("dashboard").is_valid(body) == runner_accepts
