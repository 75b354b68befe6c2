"""The example catalog is the demo and the shared test fixture: it must stay valid and complete.

These tests pin what other parts of Gantry rely on: every kind present, the seeded entities
with their documented fields, every executor type among the Actions, a multi-document file, a
second namespace referenced across namespaces, and references that all resolve.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.load import load_catalog
from generator.structure.entity import Entity, make_ref
from generator.structure.relations import references_of, resolve
from generator.validate import validate_catalog

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "catalog"
GANTRY_YAML = REPO / "gantry.yaml"

KINDS = {"Service", "API", "Team", "Environment", "Infrastructure", "Action", "Documentation",
         "Scorecard"}
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MULTI_DOCUMENT_FILE = "environments.yaml"


@pytest.fixture(scope="module")
def entities() -> list[Entity]:
    result = load_catalog(CATALOG, display_root="catalog")
    assert result.problems == [], [f"{p.file}:{p.line}: {p.message}" for p in result.problems]
    return result.entities


@pytest.fixture(scope="module")
def by_ref(entities: list[Entity]) -> dict[str, Entity]:
    return {entity.ref: entity for entity in entities}


def entity(by_ref: dict[str, Entity], kind: str, name: str, namespace: str = "default") -> Entity:
    ref = make_ref(kind, namespace, name)
    assert ref in by_ref, f"{ref} is missing from the example catalog"
    return by_ref[ref]


def of_kind(entities: list[Entity], kind: str) -> list[Entity]:
    return [e for e in entities if e.kind == kind]


def team_members(entities: list[Entity]) -> set[str]:
    return {m["name"] for team in of_kind(entities, "Team") for m in team.spec.get("members", [])}


# --- size, kinds, names, layout -------------------------------------------------------------


def test_has_every_kind_and_at_least_forty_entities(entities):
    kinds = Counter(e.kind for e in entities)
    assert set(kinds) == KINDS
    assert len(entities) >= 40


def test_names_follow_the_pattern_and_refs_are_unique(entities):
    bad = [e.ref for e in entities if not NAME.match(e.name) or not NAME.match(e.namespace)]
    assert bad == []
    duplicates = [ref for ref, count in Counter(e.ref for e in entities).items() if count > 1]
    assert duplicates == []


def test_every_document_has_the_envelope(entities):
    for e in entities:
        assert e.data.get("apiVersion") == "gantry.io/v1", e.path
        assert set(e.data) == {"apiVersion", "kind", "metadata", "spec"}, e.path


def test_files_sit_at_canonical_paths_except_the_multi_document_file(entities):
    misplaced = [
        (e.path, f"{e.kind}/{e.namespace}/{e.name}.yaml")
        for e in entities
        if e.path != MULTI_DOCUMENT_FILE and e.path != f"{e.kind}/{e.namespace}/{e.name}.yaml"
    ]
    assert misplaced == []


def test_environments_live_in_one_multi_document_file(entities):
    in_file = sorted((e for e in entities if e.path == MULTI_DOCUMENT_FILE),
                     key=lambda e: e.doc_index)
    assert [e.kind for e in in_file] == ["Environment"] * 3
    assert [e.doc_index for e in in_file] == [0, 1, 2]
    assert [e.spec["type"] for e in in_file] == ["development", "staging", "production"]
    assert {e.name for e in of_kind(entities, "Environment")} == {e.name for e in in_file}
    assert (CATALOG / MULTI_DOCUMENT_FILE).read_text().count("\n---\n") == 2


def test_git_derived_fields_are_never_written(entities):
    written = [(e.ref, key) for e in entities for key in ("createdAt", "updatedAt", "createdBy")
               if key in e.metadata]
    assert written == []


def test_yaml_files_carry_comments():
    files = sorted(CATALOG.rglob("*.yaml"))
    commented = [f for f in files
                 if any(line.lstrip().startswith("#") for line in f.read_text().splitlines())]
    assert CATALOG / MULTI_DOCUMENT_FILE in commented
    assert CATALOG / "Service/default/payment-api.yaml" in commented
    assert len(commented) >= len(files) // 2, "most files should explain themselves"


def test_some_entities_have_links(entities):
    with_links = [e for e in entities if e.metadata.get("links")]
    assert len(with_links) >= 5
    for e in with_links:
        for link in e.metadata["links"]:
            assert set(link) <= {"title", "url", "icon"}, e.ref
            assert link["url"].startswith("https://"), e.ref


# --- references -----------------------------------------------------------------------------


def test_every_reference_resolves(entities, by_ref):
    unresolved = [
        (e.ref, reference.type, reference.kind, reference.name, reference.namespace)
        for e in entities
        for reference in references_of(e)
        if resolve(reference, e.namespace, by_ref) is None
    ]
    assert unresolved == []


def test_every_owner_is_a_team(entities, by_ref):
    for e in entities:
        if e.kind == "Team":
            continue
        owner = e.metadata.get("owner")
        assert owner, f"{e.ref} has no owner"
        assert resolve(next(r for r in references_of(e) if r.type == "ownedBy"),
                       e.namespace, by_ref), f"{e.ref}: owner {owner} is not a Team"


def test_second_namespace_is_referenced_across_namespaces(entities, by_ref):
    namespaces = Counter(e.namespace for e in entities)
    others = [ns for ns in namespaces if ns != "default"]
    assert others, "the catalog needs a second namespace"
    assert sum(namespaces[ns] for ns in others) >= 3
    crossing = []
    for e in entities:
        for reference in references_of(e):
            if reference.namespace and reference.namespace != e.namespace:
                target = resolve(reference, e.namespace, by_ref)
                assert target is not None, (e.ref, reference)
                crossing.append((e.namespace, target))
    into_default = [t for ns, t in crossing if ns != "default" and ":default/" in t]
    out_of_default = [t for ns, t in crossing if ns == "default" and ":default/" not in t]
    assert into_default and out_of_default


# --- the seeded entities --------------------------------------------------------------------


def test_payment_api_has_the_documented_fields(by_ref):
    service = entity(by_ref, "Service", "payment-api")
    assert service.path == "Service/default/payment-api.yaml"
    meta = service.metadata
    assert meta["title"] == "Payment API"
    assert meta["description"] == "Handles all payment processing"
    assert meta["owner"] == "platform-team"
    assert meta["tags"] == ["payments", "critical"]
    assert meta["labels"] == {"tier": "backend"}
    spec = service.spec
    assert spec["type"] == "backend"
    assert spec["lifecycle"] == "production"
    assert spec["repoUrl"] == "https://github.com/acme/payment-api"
    assert {"kind": "Infrastructure", "name": "postgres-payments"} in spec["dependsOn"]
    assert spec["deployedIn"] and all(d["kind"] == "Environment" for d in spec["deployedIn"])
    assert spec["providesApis"]
    for api in spec["providesApis"]:
        entity(by_ref, "API", api)


def test_other_seeded_entities_exist(by_ref):
    assert entity(by_ref, "Infrastructure", "postgres-payments").spec["type"] == "database"
    assert entity(by_ref, "Service", "user-service").metadata["owner"] == "backend-services"
    for team in ("platform-team", "backend-services"):
        assert entity(by_ref, "Team", team).spec["members"]


def test_deploy_service_is_exactly_the_documented_action(by_ref):
    action = entity(by_ref, "Action", "deploy-service")
    assert action.data == {
        "apiVersion": "gantry.io/v1",
        "kind": "Action",
        "metadata": {
            "name": "deploy-service",
            "title": "Deploy Service",
            "description": "Deploy a service to a target environment",
            "owner": "platform-team",
            "tags": ["deployment"],
        },
        "spec": {
            "type": "github-action",
            "category": "Deployment",
            "inputs": [
                {"name": "service", "title": "Service Name", "type": "string",
                 "description": "The service to deploy", "required": True},
                {"name": "environment", "title": "Target Environment", "type": "select",
                 "options": ["staging", "production"], "required": True},
                {"name": "dry_run", "title": "Dry Run", "type": "boolean", "default": False},
                {"name": "notes", "title": "Release Notes", "type": "textarea",
                 "required": False},
            ],
            "config": {"repository": "acme/deployments", "workflow": "deploy.yml", "ref": "main"},
            "permissions": {
                "allowedRoles": ["developer", "platform-engineer", "admin"],
                "requireApproval": False,
            },
        },
    }


# --- coverage of each kind's variants -------------------------------------------------------


@pytest.mark.parametrize(("kind", "types"), [
    ("Service", {"backend", "frontend", "fullstack", "library", "worker"}),
    ("API", {"rest", "grpc", "graphql", "event"}),
    ("Environment", {"development", "staging", "production"}),
    ("Infrastructure", {"database", "queue", "cache", "storage", "bucket"}),
    ("Documentation", {"runbook", "wiki", "api-docs", "architecture"}),
    ("Action", {"github-action", "webhook", "argocd-sync", "flux-update", "internal"}),
])
def test_every_type_of_each_kind_is_represented(entities, kind, types):
    assert {e.spec.get("type") for e in of_kind(entities, kind)} == types


def test_service_lifecycles_are_all_represented(entities):
    lifecycles = {e.spec["lifecycle"] for e in of_kind(entities, "Service")}
    assert lifecycles == {"experimental", "development", "production", "deprecated"}


def test_documentation_relates_to_entities(entities):
    for doc in of_kind(entities, "Documentation"):
        assert doc.spec.get("relatedTo"), f"{doc.ref} relates to nothing"
        assert doc.spec.get("url", "").startswith("https://"), doc.ref


def test_teams_list_members_with_name_email_and_role(entities):
    for team in of_kind(entities, "Team"):
        for member in team.spec["members"]:
            assert set(member) == {"name", "email", "role"}, team.ref
            assert member["email"].startswith(member["name"] + "@"), team.ref
    assert {"alice", "bob", "carol", "dave"} <= team_members(entities)


def test_argocd_annotations_match_the_plugin_format(entities):
    annotated = [e for e in of_kind(entities, "Service")
                 if "argocd.io/appName" in e.metadata.get("annotations", {})]
    assert len(annotated) >= 1
    keys = {"argocd.io/appName", "argocd.io/namespace", "argocd.io/syncStatus",
            "argocd.io/healthStatus", "argocd.io/repoURL", "argocd.io/destNamespace",
            "argocd.io/destServer"}
    for service in annotated:
        annotations = service.metadata["annotations"]
        assert keys <= set(annotations), service.ref
        assert annotations["argocd.io/repoURL"] == service.spec["repoUrl"]


# --- actions --------------------------------------------------------------------------------


def test_action_inputs_cover_every_input_type(entities):
    types = {i["type"] for a in of_kind(entities, "Action") for i in a.spec.get("inputs", [])}
    assert types == {"string", "textarea", "number", "boolean", "select"}


def test_action_input_defaults_fit_their_inputs(entities):
    python_type = {"string": str, "textarea": str, "number": (int, float), "boolean": bool}
    for action in of_kind(entities, "Action"):
        names = [i["name"] for i in action.spec.get("inputs", [])]
        assert len(names) == len(set(names)), action.ref
        for spec_input in action.spec.get("inputs", []):
            if "default" not in spec_input:
                continue
            default = spec_input["default"]
            if spec_input["type"] == "select":
                assert default in spec_input["options"], (action.ref, spec_input["name"])
            else:
                assert isinstance(default, python_type[spec_input["type"]]), \
                    (action.ref, spec_input["name"])


def test_webhook_action_takes_a_header_from_the_environment(entities):
    webhooks = [a for a in of_kind(entities, "Action") if a.spec["type"] == "webhook"]
    assert any(re.search(r"\$\{[A-Z_][A-Z0-9_]*\}", value)
               for a in webhooks for value in a.spec["config"].get("headers", {}).values())


def test_argocd_sync_action_targets_an_annotated_service(entities):
    app_names = {e.metadata.get("annotations", {}).get("argocd.io/appName")
                 for e in of_kind(entities, "Service")}
    syncs = [a for a in of_kind(entities, "Action") if a.spec["type"] == "argocd-sync"]
    assert syncs
    for action in syncs:
        assert action.spec["config"]["appName"] in app_names, action.ref


def test_internal_action_updates_a_label_or_annotation(entities):
    internal = [a for a in of_kind(entities, "Action") if a.spec["type"] == "internal"]
    assert any(a.spec["config"].get("operation") == "update"
               and (a.spec["config"].get("setLabels") or a.spec["config"].get("setAnnotations"))
               for a in internal)


def test_an_approval_action_names_a_user_and_a_team(entities):
    teams = {t.name for t in of_kind(entities, "Team")}
    users = team_members(entities)
    approval = [a for a in of_kind(entities, "Action")
                if a.spec.get("permissions", {}).get("requireApproval") is True]
    assert approval
    for action in approval:
        approvers = set(action.spec["permissions"]["approvers"])
        assert approvers & teams, action.ref
        assert approvers & (users - teams), action.ref
        assert approvers <= teams | users, f"{action.ref}: unknown approvers"


def test_allowed_teams_name_existing_teams(entities):
    teams = {t.name for t in of_kind(entities, "Team")}
    restricted = [a for a in of_kind(entities, "Action")
                  if a.spec.get("permissions", {}).get("allowedTeams")]
    assert restricted
    for action in restricted:
        assert set(action.spec["permissions"]["allowedTeams"]) <= teams, action.ref


# --- gantry.yaml ----------------------------------------------------------------------------


def test_gantry_yaml_has_the_dashboard_shape():
    config = yaml.safe_load(GANTRY_YAML.read_text())
    assert config["repoUrl"] == "https://github.com/acme/gantry-catalog"
    assert config["widgets"] and all(set(w) == {"id", "enabled"} for w in config["widgets"])
    assert all(isinstance(w["enabled"], bool) for w in config["widgets"])
    assert config["announcements"]
    for announcement in config["announcements"]:
        assert set(announcement) == {"title", "message", "severity"}
        assert announcement["severity"] in {"info", "warning", "critical"}
    assert config["quickLinks"]
    for link in config["quickLinks"]:
        assert set(link) == {"title", "url"} and link["url"].startswith("https://")
    assert "runnerUrl" not in config
    assert re.search(r"^#\s*runnerUrl:\s*https://", GANTRY_YAML.read_text(), re.MULTILINE)


# --- the validator --------------------------------------------------------------------------


def test_catalog_validates_with_zero_problems():
    result = validate_catalog(CATALOG, display_root="catalog")
    assert [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in result.problems] == []
    assert len(result.entities) >= 40


def test_gantry_validate_command_accepts_the_catalog():
    result = CliRunner().invoke(cli, ["validate", str(CATALOG), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"problems": []}


def test_gantry_yaml_dashboard_is_accepted_by_the_runner():
    dashboard = pytest.importorskip("runner.catalog.dashboard")
    config = yaml.safe_load(GANTRY_YAML.read_text())
    body = {key: config[key] for key in dashboard.DASHBOARD_KEYS}
    assert dashboard.validate(body) == body


# --- the runner's view of the actions -------------------------------------------------------


def action_names() -> list[str]:
    return sorted(p.stem for p in (CATALOG / "Action").rglob("*.yaml"))


@pytest.mark.parametrize("name", action_names())
def test_action_is_accepted_by_the_runner(by_ref, name):
    inputs = pytest.importorskip("runner.actions.inputs")
    executors = pytest.importorskip("runner.actions.executors")
    action = entity(by_ref, "Action", name)
    assert inputs.definition_problems(action.data) == []
    executor = executors.EXECUTORS.get(action.spec["type"])
    if executor is None:
        pytest.skip(f"the {action.spec['type']} executor is not available")
    assert executor.validate_config(action.spec["config"]) == []
