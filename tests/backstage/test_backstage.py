"""Backstage descriptors: schemas, refs, relations both ways, Locations, mixed catalogs."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import duckdb
import pytest

from generator.index.build import build_index
from generator.index.incremental import update_files
from generator.structure.kinds import SchemaRegistry
from generator.validate import validate_catalog

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backstage"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry()


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def problems(root: Path, registry: SchemaRegistry) -> list[tuple]:
    result = validate_catalog(root, registry, display_root="c")
    return [(p.file, p.line, p.column, p.severity, p.rule, p.message) for p in result.problems]


def relations(index: Path) -> set[tuple[str, str, str]]:
    with duckdb.connect(str(index), read_only=True) as con:
        rows = con.execute("SELECT source, type, target FROM relations").fetchall()
    assert len(rows) == len(set(rows)), "an edge is stored twice"
    return set(rows)


def test_the_example_catalog_is_valid(registry: SchemaRegistry) -> None:
    result = validate_catalog(EXAMPLE, registry)
    assert result.problems == []
    assert len(result.entities) == 13


PAIRS = [
    ("component:default/artist-lookup", "ownedBy", "ownerOf", "group:default/team-a"),
    ("component:default/artist-lookup", "partOf", "hasPart",
     "system:default/artist-engagement-portal"),
    ("system:default/artist-engagement-portal", "partOf", "hasPart", "domain:default/artists"),
    ("api:default/artist-api", "partOf", "hasPart", "system:default/artist-engagement-portal"),
    ("resource:default/artists-db", "partOf", "hasPart",
     "system:default/artist-engagement-portal"),
    ("domain:default/artist-royalties", "partOf", "hasPart", "domain:default/artists"),
    ("component:default/artist-lookup-cache", "partOf", "hasPart",
     "component:default/artist-lookup"),
    ("component:default/artist-lookup", "providesApi", "apiProvidedBy", "api:default/artist-api"),
    ("component:default/artist-lookup-cache", "consumesApi", "apiConsumedBy",
     "api:default/artist-api"),
    ("component:default/artist-lookup", "dependsOn", "dependencyOf", "resource:default/artists-db"),
    ("user:default/breanna.davison", "memberOf", "hasMember", "group:default/team-a"),
    ("group:default/team-a", "childOf", "parentOf", "group:default/music"),
    ("component:default/artist-lookup-cache", "ownedBy", "ownerOf",
     "user:default/breanna.davison"),
]


def test_relations_are_stored_in_both_directions(tmp_path: Path) -> None:
    index = tmp_path / "catalog.duckdb"
    build_index(EXAMPLE, index)
    edges = relations(index)
    for source, forward, inverse, target in PAIRS:
        assert (source, forward, target) in edges
        assert (target, inverse, source) in edges


def test_bad_descriptors_are_reported_at_their_lines(tmp_path: Path,
                                                      registry: SchemaRegistry) -> None:
    write(tmp_path, "bad.yaml", """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: bad..name
          namespace: Upper
          tags: [Java]
          labels:
            "bad key!": x
        spec:
          type: service
          owner: nobody
          dependsOn: [artists-db]
          providesApis: [api:other/ghost]
        ---
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata:
          name: no-definition
        spec:
          type: openapi
          lifecycle: production
          owner: group:nobody
        """)
    found = problems(tmp_path, registry)
    rules = [(line, column, rule) for _file, line, column, _sev, rule, _msg in found]
    assert (4, 9, "name") in rules
    assert (5, 14, "name") in rules
    assert (6, 10, "schema") in rules  # tag
    assert (7, 3, "schema") in rules or (8, 5, "schema") in rules  # label key
    assert (9, 1, "schema") in rules  # spec lacks lifecycle
    assert (11, 10, "reference") in rules  # owner defaults to a Group
    assert (12, 15, "reference") in rules  # dependsOn needs a kind
    assert (13, 18, "reference") in rules  # explicit namespace
    assert (19, 1, "schema") in rules  # Backstage API needs definition
    assert (22, 10, "reference") in rules
    messages = {line: msg for _f, line, _c, _s, _r, msg in found}
    # The namespace defaults to the entity's own, as in Backstage.
    assert "Group 'Upper/nobody' does not exist" in messages[11]
    assert "needs a kind" in messages[12]
    assert "API 'other/ghost' does not exist" in messages[13]


def test_gantry_and_backstage_api_coexist_and_refer_across(tmp_path: Path,
                                                         registry: SchemaRegistry) -> None:
    write(tmp_path, "mixed.yaml", """\
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: payments}
        spec: {type: team, children: []}
        ---
        apiVersion: gantry.io/v1
        kind: Service
        metadata: {name: payment-api, owner: payments}
        spec: {type: backend, lifecycle: production, providesApis: [charge-api]}
        ---
        apiVersion: gantry.io/v1
        kind: API
        metadata: {name: charge-api, owner: payments}
        spec: {type: rest, lifecycle: production}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata: {name: refund-api}
        spec: {type: openapi, lifecycle: production, owner: payments, definition: "x"}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: refunds}
        spec: {type: service, lifecycle: production, owner: payments,
               consumesApis: [charge-api], dependsOn: ["service:payment-api"]}
        """)
    assert problems(tmp_path, registry) == []
    index = tmp_path / "out" / "catalog.duckdb"
    build_index(tmp_path, index)
    edges = relations(index)
    assert ("service:default/payment-api", "ownedBy", "group:default/payments") in edges
    assert ("group:default/payments", "ownerOf", "service:default/payment-api") not in edges
    assert ("component:default/refunds", "consumesApi", "api:default/charge-api") in edges
    assert ("api:default/charge-api", "apiConsumedBy", "component:default/refunds") in edges
    assert ("service:default/payment-api", "dependencyOf", "component:default/refunds") in edges
    # Each API is checked by its own format's schema: Gantry's needs no owner in spec.
    write(tmp_path, "mixed.yaml", (tmp_path / "mixed.yaml").read_text().replace(
        'definition: "x"', "definition: 3"))
    assert [r[4] for r in problems(tmp_path, registry)] == ["schema"]


def test_a_removed_child_loses_both_edges_on_incremental_update(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, catalog)
    index = tmp_path / "catalog.duckdb"
    build_index(catalog, index)
    groups = catalog / "org" / "groups.yaml"
    groups.write_text(groups.read_text().replace("  children: [team-a]", "  children: []"))
    update_files(index, catalog, ["org/groups.yaml"])
    edges = relations(index)
    # team-a still names music as its parent, so childOf/parentOf stay (declared by team-a).
    assert ("group:default/team-a", "childOf", "group:default/music") in edges
    assert ("group:default/music", "parentOf", "group:default/team-a") in edges
    rebuilt = tmp_path / "rebuilt.duckdb"
    build_index(catalog, rebuilt)
    assert edges == relations(rebuilt)
    # A Group's own change re-derives the edges its owned entities declare, once each.
    groups.write_text(groups.read_text().replace("Looks after artists", "Artists"))
    update_files(index, catalog, ["org/groups.yaml"])
    assert ("component:default/artist-lookup", "ownedBy", "group:default/team-a") in \
        relations(index)
    users = catalog / "org" / "users.yaml"
    users.write_text(users.read_text().replace("memberOf: [team-a]", "memberOf: []"))
    update_files(index, catalog, ["org/users.yaml"])
    edges = relations(index)
    assert ("group:default/team-a", "hasMember", "user:default/breanna.davison") in edges
    team = catalog / "org" / "groups.yaml"
    team.write_text(team.read_text().replace("members: [breanna.davison]", "members: []"))
    update_files(index, catalog, ["org/groups.yaml"])
    system = catalog / "systems" / "artists" / "catalog-info.yaml"
    system.write_text(system.read_text().replace(
        "  owner: team-a\n  system:", "  owner: music\n  system:", 1))
    update_files(index, catalog, ["systems/artists/catalog-info.yaml"])
    edges = relations(index)
    assert ("group:default/team-a", "hasMember", "user:default/breanna.davison") not in edges
    assert ("user:default/breanna.davison", "memberOf", "group:default/team-a") not in edges
    build_index(catalog, rebuilt)
    assert edges == relations(rebuilt)


def test_unreadable_location_targets_are_warnings_at_their_lines(
        tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "sub/one.yaml", """\
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: one}
        spec: {type: team, children: []}
        """)
    write(tmp_path, "catalog-info.yaml", """\
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata:
          name: root
        spec:
          target: ./catalog-info.yaml
          targets:
            - ./sub/*.yaml
            - ./missing.yaml
            - https://github.com/acme/other/blob/main/catalog-info.yaml
            - ../outside.yaml
        """)
    found = [(line, column, severity, rule) for _f, line, column, severity, rule, _m
             in problems(tmp_path, registry)]
    assert found == [(9, 7, "warning", "location-unreachable"),
                     (10, 7, "warning", "location-unreachable"),
                     (11, 7, "warning", "location-unreachable")]


def test_a_template_is_a_warning_not_an_error(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "t.yaml", """\
        apiVersion: scaffolder.backstage.io/v1beta3
        kind: Template
        metadata: {name: t}
        spec: {}
        ---
        apiVersion: backstage.io/v1beta2
        kind: Template
        metadata: {name: u}
        spec: {}
        """)
    found = [(line, severity, rule) for _f, line, _c, severity, rule, _m
             in problems(tmp_path, registry)]
    assert found == [(2, "warning", "unsupported-kind"), (7, "warning", "unsupported-kind")]


def test_the_synthetic_backstage_catalog_is_valid_and_seeded(tmp_path: Path,
                                                             registry: SchemaRegistry) -> None:
    from tests.benchmarks.synth import generate

    generate(tmp_path / "a", 300, seed=3, fmt="backstage")
    generate(tmp_path / "b", 300, seed=3, fmt="backstage")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.yaml"))
    assert files_a == sorted(p.relative_to(tmp_path / "b")
                             for p in (tmp_path / "b").rglob("*.yaml"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
               for f in files_a)
    result = validate_catalog(tmp_path / "a", registry)
    assert result.problems == []
    assert len(result.entities) == 300
    assert {e.data["apiVersion"] for e in result.entities} == {"backstage.io/v1alpha1"}


def test_the_any_kind_schema_chooses_by_kind_and_api_version(registry: SchemaRegistry) -> None:
    import yaml
    from jsonschema import Draft202012Validator

    any_kind = Draft202012Validator(registry.bundled_catalog())
    for path in EXAMPLE.rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert list(any_kind.iter_errors(document)) == [], path
    gantry_api = {"apiVersion": "gantry.io/v1", "kind": "API", "metadata": {"name": "a"},
                  "spec": {"type": "rest", "lifecycle": "production"}}
    backstage_api = {**gantry_api, "apiVersion": "backstage.io/v1alpha1"}
    assert any_kind.is_valid(gantry_api)
    assert not any_kind.is_valid(backstage_api)  # needs owner and definition
    assert any_kind.is_valid({**backstage_api, "spec": {
        "type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": "x"}})


def test_one_identity_whatever_the_api_version(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "gantry.yaml.d/api.yaml", """\
        apiVersion: gantry.io/v1
        kind: API
        metadata: {name: orders-api}
        spec: {type: rest, lifecycle: production}
        """)
    write(tmp_path, "catalog-info.yaml", """\
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata:
          name: orders-api
        spec: {type: openapi, lifecycle: production, owner: user:nobody, definition: x}
        """)
    found = [(file, line, rule, message) for file, line, _c, _s, rule, message
             in problems(tmp_path, registry)]
    assert ("c/catalog-info.yaml", 4, "duplicate",
            "duplicate API 'default/orders-api': also defined at c/gantry.yaml.d/api.yaml:3"
            ) in found
    assert ("c/gantry.yaml.d/api.yaml", 3, "duplicate",
            "duplicate API 'default/orders-api': also defined at c/catalog-info.yaml:4") in found
    assert ("c/catalog-info.yaml", 5, "reference",
            "spec.owner: User 'default/nobody' does not exist") in found


def test_an_api_definition_may_be_a_placeholder(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "api.yaml", """\
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata: {name: petstore}
        spec:
          type: openapi
          lifecycle: experimental
          owner: user:default/someone
          definition:
            $text: ./petstore.oas.yaml
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: someone}
        spec: {memberOf: []}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata: {name: broken}
        spec:
          type: openapi
          lifecycle: experimental
          owner: user:someone
          definition:
            $python: evil
        """)
    found = [(line, rule) for _f, line, _c, _s, rule, _m in problems(tmp_path, registry)]
    assert found == [(24, "schema")]
