"""The site publishes the self-contained schemas under `schemas/`: one per kind, `catalog.json`
for any kind and `gantry-yaml.json` for the settings file, each usable alone and offline."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, Draft202012Validator

from generator.site.build import build_site
from generator.structure.kinds import SchemaRegistry
from tests.support.schemas import DRAFT_2020_12, PROJECT_ROOT, example_documents, outside_refs

from .conftest import Built, example_config

BACKSTAGE = {"api", "component", "domain", "environment", "group", "location", "resource",
             "system", "user"}
PUBLISHED = {"action.json", "api.json", "documentation.json", "environment.json",
             "infrastructure.json", "scorecard.json", "service.json", "team.json", "catalog.json",
             "gantry-yaml.json", *(f"backstage-{kind}.json" for kind in BACKSTAGE),
             *(f"{kind}.json" for kind in BACKSTAGE - {"api", "environment"})}


def published(site: Path) -> dict[str, Any]:
    return {path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted((site / "schemas").iterdir())}


def test_every_published_schema_is_self_contained(example: Built) -> None:
    files = published(example.site)
    assert set(files) == PUBLISHED
    for name, schema in files.items():
        assert schema["$schema"] == DRAFT_2020_12, name
        Draft202012Validator.check_schema(schema)
        assert outside_refs(schema) == [], name


def test_kind_files_are_what_the_api_answers(example: Built) -> None:
    files = published(example.site)
    registry = SchemaRegistry()
    for kind in registry.kinds():
        assert files[f"{kind.lower()}.json"] == registry.bundled(kind), kind


def test_published_kind_files_check_the_example_catalog_offline(example: Built) -> None:
    files = published(example.site)
    checked = 0
    for path, document in example_documents():
        validator = Draft202012Validator(files[f"{document['kind'].lower()}.json"])
        assert list(validator.iter_errors(document)) == [], path
        checked += 1
    assert checked >= 40
    service = next(doc for _, doc in example_documents() if doc["kind"] == "Service")
    wrong = copy.deepcopy(service)
    wrong["spec"]["type"] = "daemon"
    [error] = Draft202012Validator(files["service.json"]).iter_errors(wrong)
    assert error.json_path == "$.spec.type"
    assert error.message.startswith("'daemon' is not one of ['backend', 'frontend'")


def document(kind: str, spec: dict[str, Any], name: str = "x-1") -> dict[str, Any]:
    return {"apiVersion": "gantry.io/v1", "kind": kind, "metadata": {"name": name},
            "spec": spec}


def test_catalog_schema_takes_every_example_document_and_refuses_wrong_ones(
        example: Built) -> None:
    validator = Draft202012Validator(published(example.site)["catalog.json"])
    documents = example_documents()
    assert {doc["kind"] for _, doc in documents} == {
        entry.kind for entry in SchemaRegistry().entries() if not entry.api_versions}
    for path, doc in documents:
        assert list(validator.iter_errors(doc)) == [], path
    wrong = [
        (document("Widget", {}), "$.kind", "'Widget' is not one of ['API', 'Action'"),
        ({"apiVersion": "gantry.io/v1", "metadata": {"name": "a"}, "spec": {}}, "$",
         "'kind' is a required property"),
        (document("Infrastructure", {"type": "mainframe"}), "$.spec.type",
         "'mainframe' is not one of ['database'"),
        (document("Action", {"type": "webhook", "config": {"workflow": "deploy.yml"}}),
         "$.spec.config", "'url' is a required property"),
        (document("Team", {"members": [{"name": "ana", "shoeSize": 38}]}),
         "$.spec.members[0]", "('shoeSize' was unexpected)"),
        (document("API", {"type": "rest", "lifecycle": "production"}, name="Bad Name"),
         "$.metadata.name", "does not match"),
        ({**document("Environment", {"type": "staging"}), "apiVersion": "gantry.io/v2"},
         "$.apiVersion", "'gantry.io/v1' was expected"),
    ]
    for doc, where, message in wrong:
        found = [(error.json_path, error.message) for error in validator.iter_errors(doc)]
        assert any(path == where and message in text for path, text in found), found
    # Editors' YAML language server validates as draft 7: the verdicts must not change.
    draft7 = Draft7Validator(validator.schema)
    for doc in [doc for _, doc in documents] + [doc for doc, _, _ in wrong]:
        assert draft7.is_valid(doc) == validator.is_valid(doc), doc


def test_gantry_yaml_schema_takes_the_repository_file(example: Built) -> None:
    validator = Draft202012Validator(published(example.site)["gantry-yaml.json"])
    settings = yaml.safe_load((PROJECT_ROOT / "gantry.yaml").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(settings)) == []
    typo = copy.deepcopy(settings)
    typo["announcements"][0]["severity"] = "urgent"
    typo["quickLinks"][1]["href"] = typo["quickLinks"][1].pop("url")
    found = sorted((error.json_path, error.message) for error in validator.iter_errors(typo))
    assert [where for where, _ in found] == ["$.announcements[0].severity", "$.quickLinks[1]",
                                             "$.quickLinks[1]"]
    assert "'url' is a required property" in [message for _, message in found]
    draft7 = Draft7Validator(validator.schema)
    assert draft7.is_valid(settings) and not draft7.is_valid(typo)


def test_a_full_build_puts_back_missing_schemas_and_drops_stale_ones(
        fresh_example: Built) -> None:
    folder = fresh_example.site / "schemas"
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    (folder / "service.json").unlink()
    (folder / "catalog.json").unlink()
    (folder / "retired-kind.json").write_text("{}")
    build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
               config=example_config())
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_an_unchanged_rebuild_leaves_the_schema_files_alone(fresh_example: Built) -> None:
    folder = fresh_example.site / "schemas"
    stamps = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    changed = {**example_config(), "title": "Another title"}  # every page is rendered again
    stats = build_site(fresh_example.index, fresh_example.catalog, fresh_example.site,
                       config=changed)
    assert not stats.skipped and stats.pages_written > 0
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == stamps
