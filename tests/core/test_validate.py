"""The validator's rules, each reported with its message, file, line and column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.load import load_catalog
from generator.structure.entity import Entity
from generator.structure.kinds import SchemaRegistry
from generator.structure.problem import Problem
from generator.validate import ValidationResult, known_refs, validate_catalog, validate_entities

from .conftest import TEAM, write


def found(root: Path, registry: SchemaRegistry) -> list[tuple[int, int, str, str]]:
    """(line, column, rule, message) of every problem, in report order."""
    result = validate_catalog(root, registry, display_root="catalog")
    return [(p.line, p.column, p.rule, p.message) for p in result.problems]


def service(body: str, name: str = "payment-api") -> str:
    return (f"apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: {name}\n"
            + textwrap.dedent(body).lstrip("\n"))


def test_valid_catalog_has_no_problems(catalog: Path, registry: SchemaRegistry) -> None:
    result = validate_catalog(catalog, registry)
    assert result.problems == []
    assert result.ok
    assert sorted(e.ref for e in result.entities) == ["service:default/payment-api",
                                                      "team:default/platform-team"]
    assert set(result.files) == {"Team/default/platform-team.yaml",
                                 "Service/default/payment-api.yaml"}


def test_enum_error_names_the_choices(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "s.yaml", service("""
        spec:
          type: backnd
          lifecycle: production
    """))
    assert found(tmp_path, registry) == [
        (6, 9, "schema", "spec.type: 'backnd' is not one of backend, frontend, fullstack, "
         "library, worker (did you mean 'backend'?)")]


def test_unexpected_key_is_reported_at_the_key(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "s.yaml", service("""
        spec:
          type: backend
          lifecycle: production
          foo:
            nested: 1
    """))
    (line, column, rule, message), = found(tmp_path, registry)
    assert (line, column, rule) == (8, 3, "schema")
    assert message.startswith("spec: unexpected key 'foo' (allowed: type, lifecycle, system,")


def test_missing_key_is_reported_at_the_mapping(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "s.yaml", """
        apiVersion: gantry.io/v1
        kind: Service
        metadata:
          title: No name
        spec:
          type: backend
    """)
    assert found(tmp_path, registry) == [
        (3, 1, "schema", "metadata: missing required key 'name'"),
        (5, 1, "schema", "spec: missing required key 'lifecycle'"),
    ]


@pytest.mark.parametrize("spec, column, message", [
    ("spec:\n", 6, "spec: expected a mapping, got null"),
    ("spec: ~\n", 7, "spec: expected a mapping, got null"),
    ("spec: [a]\n", 7, "spec: expected a mapping, got a list"),
])
def test_null_or_wrong_spec(tmp_path: Path, registry: SchemaRegistry, spec: str, column: int,
                            message: str) -> None:
    write(tmp_path, "s.yaml", service(spec))
    assert found(tmp_path, registry) == [(5, column, "schema", message)]


def test_missing_spec_is_reported_at_the_document(tmp_path: Path,
                                                  registry: SchemaRegistry) -> None:
    write(tmp_path, "s.yaml", "# a comment\n" + service(""))
    assert found(tmp_path, registry) == [(2, 1, "schema", "missing required key 'spec'")]


def test_non_string_label_values(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "s.yaml", """
        apiVersion: gantry.io/v1
        kind: Team
        metadata:
          name: platform-team
          labels:
            tier: 1
            critical: true
            fine: "1"
          annotations:
            empty:
        spec: {}
    """)
    assert found(tmp_path, registry) == [
        (6, 11, "schema", 'metadata.labels.tier: expected a string, got the number 1; '
         'quote it ("1") to make it a string'),
        (7, 15, "schema", 'metadata.labels.critical: expected a string, got the boolean '
         'true; quote it ("true") to make it a string'),
        (10, 11, "schema", "metadata.annotations.empty: expected a string, got null"),
    ]


@pytest.mark.parametrize("field, value, expected", [
    ("name", "payments/api", "contains a slash: a name is a single path segment"),
    ("name", "..", "contains '..': names become file and URL paths"),
    ("name", "a..b", "contains '..'"),
    ("namespace", "team/sub", "contains a slash: namespaces cannot be nested"),
    ("namespace", "../../etc", "contains '..'"),
    ("name", "Payment-API", "must be lower case: 'payment-api'"),
    ("name", "x" * 64, "is 64 characters long; the limit is 63"),
    ("name", "-leading", "is not a valid name"),
])
def test_bad_names(tmp_path: Path, registry: SchemaRegistry, field: str, value: str,
                   expected: str) -> None:
    metadata = {"name": "ok-team", field: value}
    lines = "".join(f'  {key}: "{text}"\n' for key, text in metadata.items())
    write(tmp_path, "t.yaml",
          f"apiVersion: gantry.io/v1\nkind: Team\nmetadata:\n{lines}spec: {{}}\n")
    problems = found(tmp_path, registry)
    assert len(problems) == 1, problems
    line, column, rule, message = problems[0]
    assert (line, column, rule) == (4 if field == "name" else 5, len(field) + 5, "name")
    assert message.startswith(f"metadata.{field}: '{value[:59]}")
    assert expected in message


def test_unknown_kind_lists_the_known_ones(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "w.yaml", """
        apiVersion: gantry.io/v1
        kind: Servce
        metadata:
          name: x
          labels: {a: 1}
        spec: {}
    """)
    assert found(tmp_path, registry) == [
        (2, 7, "unknown-kind", "kind: unknown kind 'Servce' (did you mean 'Service'?); known "
         "kinds: API, Action, Component, Documentation, Domain, Environment, Group, "
         "Infrastructure, Location, Resource, Scorecard, Service, System, Team, User (a schema "
         "file in schemas/ adds a kind)"),
        # The envelope still applies to a document of an unknown kind.
        (5, 15, "schema", 'metadata.labels.a: expected a string, got the number 1; quote it '
         '("1") to make it a string'),
    ]


def test_envelope_problems(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "e.yaml", """
        apiVersion: gantry.io/v2
        kind: service
        metadata:
          name: x
          createdAt: "2024-01-01"
        spec: {type: backend, lifecycle: production}
        status: {}
    """)
    assert found(tmp_path, registry) == [
        (1, 13, "envelope", "apiVersion: expected 'gantry.io/v1', got 'gantry.io/v2'"),
        (2, 7, "envelope", "kind: expected 'Service', got 'service'"),
        (5, 3, "schema", "metadata: 'createdAt' is derived from Git history and cannot be "
         "written in YAML; remove it"),
        (7, 1, "schema", "unexpected key 'status' (allowed: apiVersion, kind, metadata, spec)"),
    ]


def test_links_refuse_script_urls(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "t.yaml", """
        apiVersion: gantry.io/v1
        kind: Team
        metadata:
          name: t
          links:
            - {title: ok, url: "https://example.com"}
            - {title: mail, url: "mailto:team@example.com"}
            - {title: bad, url: "javascript:alert(1)"}
        spec: {}
    """)
    assert found(tmp_path, registry) == [
        (8, 25, "schema", "metadata.links[2].url: 'javascript:alert(1)' is not valid: "
         "expected an http://, https:// or mailto: URL")]


def test_duplicates_name_both_places(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "a.yaml", "# first\n" + service("spec: {type: backend, "
                                                    "lifecycle: production}\n"))
    write(tmp_path, "b/c.yaml", "---\n" + service("spec: {type: worker, "
                                                  "lifecycle: production}\n"))
    write(tmp_path, "b/other-namespace.yaml", service(
        "spec: {type: worker, lifecycle: production}\n").replace(
        "name: payment-api", "name: payment-api\n  namespace: payments"))
    assert found(tmp_path, registry) == [
        (5, 9, "duplicate", "duplicate Service 'default/payment-api': also defined at "
         "catalog/b/c.yaml:5"),
        (5, 9, "duplicate", "duplicate Service 'default/payment-api': also defined at "
         "catalog/a.yaml:5"),
    ]


def test_references_must_resolve(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "team.yaml", textwrap.dedent(TEAM))
    write(tmp_path, "env.yaml", """
        apiVersion: gantry.io/v1
        kind: Environment
        metadata: {name: production}
        spec: {type: production}
    """)
    write(tmp_path, "api.yaml", """
        apiVersion: gantry.io/v1
        kind: API
        metadata: {name: orders-api, namespace: shop}
        spec: {type: rest, lifecycle: production}
    """)
    write(tmp_path, "s.yaml", """
        apiVersion: gantry.io/v1
        kind: Service
        metadata:
          name: checkout
          namespace: shop
          owner: platform-team
        spec:
          type: backend
          lifecycle: production
          deployedIn: [{kind: Environment, name: production}, {name: staging}]
          providesApis: [orders-api, shop/orders-api]
          consumesApis: [payments-api, default/orders-api]
          dependsOn:
            - {kind: API, name: orders-api}
            - {kind: Service, name: ghost, namespace: shop}
            - {kind: Servce, name: x}
    """)
    assert found(tmp_path, registry) == [
        (10, 55, "reference", "spec.deployedIn[1]: Environment 'staging' does not exist in "
         "namespace 'shop' or 'default'"),
        (12, 18, "reference", "spec.consumesApis[0]: API 'payments-api' does not exist in "
         "namespace 'shop' or 'default'"),
        (12, 32, "reference", "spec.consumesApis[1]: API 'default/orders-api' does not exist "
         "(found elsewhere: write 'shop/orders-api')"),
        (15, 7, "reference", "spec.dependsOn[1]: Service 'shop/ghost' does not exist"),
        (16, 14, "reference", "spec.dependsOn[2].kind: unknown kind 'Servce' (did you mean "
         "'Service'?); known kinds: API, Action, Component, Documentation, Domain, Environment, "
         "Group, Infrastructure, Location, Resource, Scorecard, Service, System, Team, User (a "
         "schema file in schemas/ adds a kind)"),
    ]


def test_owner_and_related_to_references(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "d.yaml", """
        apiVersion: gantry.io/v1
        kind: Documentation
        metadata:
          name: payment-runbook
          owner: payments/payments-team
        spec:
          type: runbook
          url: https://docs.example.com/runbook
          relatedTo:
            - {kind: Service, name: payment-api}
    """)
    assert found(tmp_path, registry) == [
        (5, 10, "reference", "metadata.owner: Team 'payments/payments-team' does not exist"),
        (10, 7, "reference", "spec.relatedTo[0]: Service 'payment-api' does not exist in "
         "namespace 'default'"),
    ]


ACTION = """
apiVersion: gantry.io/v1
kind: Action
metadata:
  name: deploy-service
spec:
  type: github-action
  inputs:
    - {name: environment, type: select}
    - {name: environment, type: select, options: [staging, production], default: prod}
    - {name: replicas, type: number, default: "3"}
    - {name: dry_run, type: boolean, default: "no"}
    - {name: notes, type: textarea, default: 5}
    - {name: count, type: number, default: 2.5}
    - {name: flag, type: boolean, default: false}
    - {name: 'bad name', type: colour}
  config:
    workflow: deploy.yml
    timeout: 301
    extra: 1
  permissions:
    allowedRoles: [developer, superuser]
"""


def test_action_checks(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "a.yaml", ACTION)
    problems = found(tmp_path, registry)
    assert problems == [
        (8, 7, "schema", "spec.inputs[0]: missing required key 'options'"),
        (9, 14, "action", "spec.inputs[1].name: duplicate input name 'environment' (also "
         "spec.inputs[0])"),
        (9, 82, "action", "spec.inputs[1].default: 'prod' is not one of the options "
         "('staging', 'production')"),
        (10, 47, "action", "spec.inputs[2].default: '3' does not fit a number input"),
        (11, 47, "action", "spec.inputs[3].default: 'no' does not fit a boolean input"),
        (12, 46, "action", "spec.inputs[4].default: 5 does not fit a textarea input"),
        (15, 14, "schema", "spec.inputs[7].name: 'bad name' is not valid: expected letters, "
         "digits, '_' and '-', starting with a letter or '_'"),
        (15, 32, "schema", "spec.inputs[7].type: 'colour' is not one of string, textarea, "
         "number, boolean, select"),
        (16, 3, "schema", "spec.config: needs 'repository' or 'repoURL'"),
        (18, 14, "schema", "spec.config.timeout: 301 is above the maximum of 300"),
        (19, 5, "schema", "spec.config: unexpected key 'extra' (allowed: repository, repoURL, "
         "workflow, ref, timeout, followTimeout)"),
        (21, 31, "schema", "spec.permissions.allowedRoles[1]: 'superuser' is not one of "
         "viewer, developer, platform-engineer, admin"),
    ]


@pytest.mark.parametrize("action_type, config, error", [
    ("webhook", {"url": "https://hooks.example.com/x", "method": "POST",
                 "headers": {"Authorization": "Bearer ${TOKEN}"}, "secret": "${S}",
                 "timeout": 10, "retries": 3}, None),
    ("webhook", {"url": "${HOOK_URL}"}, None),
    ("webhook", {"url": "ftp://x"}, "spec.config.url"),
    ("webhook", {"url": "https://x", "retries": -1}, "spec.config.retries"),
    ("argocd-sync", {"appName": "payment-api", "instance": "main", "prune": True,
                     "hard": False, "wait": True}, None),
    ("argocd-sync", {"prune": True}, "spec.config: missing required key 'appName'"),
    ("flux-update", {"url": "https://flux.example.com/hook/abc", "secret": "${T}"}, None),
    ("github-action", {"repoURL": "https://github.com/acme/x", "workflow": 42,
                       "followTimeout": 7200}, None),
    ("github-action", {"repository": "not a repo", "workflow": "d.yml"},
     "spec.config.repository"),
    ("internal", {"operation": "update", "target": {"kind": "Service", "name": "x"},
                  "setLabels": {"a": "b"}}, None),
    ("internal", {"operation": "create", "entity": {"kind": "Service"}}, None),
    ("internal", {"operation": "create"}, "spec.config: missing required key 'entity'"),
    ("internal", {"operation": "delete"}, "spec.config: missing required key 'target'"),
    ("internal", {"operation": "rename"}, "spec.config.operation"),
])
def test_executor_config_per_type(registry: SchemaRegistry, action_type: str, config: dict,
                                  error: str | None) -> None:
    data = {"apiVersion": "gantry.io/v1", "kind": "Action", "metadata": {"name": "a"},
            "spec": {"type": action_type, "config": config}}
    problems = validate_entities([Entity(data, "a.yaml")], set(), registry)
    if error is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].message.startswith(error), problems


def test_every_problem_is_reported_in_one_run(tmp_path: Path, registry: SchemaRegistry) -> None:
    write(tmp_path, "a.yaml", ACTION)
    write(tmp_path, "broken.yaml", "a: [")
    write(tmp_path, "s.yaml", service("spec: {type: backnd, lifecycle: production}\n"))
    write(tmp_path, "t.yaml", service("spec: {type: backend, lifecycle: production}\n",
                                      name="Bad/Name"))
    result = validate_catalog(tmp_path, registry, display_root="catalog")
    files = {p.file for p in result.problems}
    assert files == {"catalog/a.yaml", "catalog/broken.yaml", "catalog/s.yaml", "catalog/t.yaml"}
    assert len(result.problems) == 15
    assert [p.sort_key() for p in result.problems] == sorted(p.sort_key() for p in result.problems)


def test_validate_entities_without_files(registry: SchemaRegistry) -> None:
    """The runner checks one entity before writing it: messages stand on their own."""
    data = {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": "new-service", "owner": "platform-team"},
            "spec": {"type": "backend", "lifecycle": "production", "dependsOn": [
                {"kind": "Service", "name": "payment-api"}, {"kind": "Service", "name": "x"}]}}
    entity = Entity(data, "Service/default/new-service.yaml")
    known = {"team:default/platform-team", "service:default/payment-api"}
    problems = validate_entities([entity], known, registry, display_root="catalog")
    assert [(p.file, p.line, p.message) for p in problems] == [
        ("catalog/Service/default/new-service.yaml", 1,
         "spec.dependsOn[1]: Service 'x' does not exist in namespace 'default'")]


def test_known_refs_and_validate_entities_on_loaded_catalog(catalog: Path,
                                                            registry: SchemaRegistry) -> None:
    loaded = load_catalog(catalog)
    refs = known_refs(loaded.entities)
    assert refs == {"team:default/platform-team", "service:default/payment-api"}
    assert validate_entities(loaded.entities, refs, registry, catalog) == []
    without_team = [e for e in loaded.entities if e.kind == "Service"]
    problems = validate_entities(without_team, known_refs(without_team), registry, catalog,
                                 "catalog")
    assert [(p.file, p.line, p.column, p.rule) for p in problems] == [
        ("catalog/Service/default/payment-api.yaml", 5, 10, "reference")]


def test_missing_catalog_folder_raises(tmp_path: Path, registry: SchemaRegistry) -> None:
    with pytest.raises(FileNotFoundError, match="catalog folder not found"):
        validate_catalog(tmp_path / "missing", registry)


def test_display_root_names_files(catalog: Path, registry: SchemaRegistry) -> None:
    write(catalog, "Service/default/payment-api.yaml", service("spec: {}\n"))
    for display_root, expected in (("", "Service/default/payment-api.yaml"),
                                   ("repo/catalog", "repo/catalog/Service/default/"
                                                    "payment-api.yaml"),
                                   (None, f"{catalog}/Service/default/payment-api.yaml")):
        result = validate_catalog(catalog, registry, display_root=display_root)
        assert {p.file for p in result.problems} == {expected}
        assert not result.ok


def test_warnings_do_not_fail_a_catalog() -> None:
    warning = Problem("c/a.yaml", 1, 1, "consider a title", "style", "warning")
    assert ValidationResult(problems=[warning]).ok
    assert not ValidationResult(problems=[warning, Problem("c/a.yaml", 2, 1, "x", "schema")]).ok
