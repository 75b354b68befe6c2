"""The schema files and the registry that reads them."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from generator.resources import schemas_dir
from generator.structure.kinds import SchemaError, SchemaRegistry
from tests.benchmarks.synth import documents

from .conftest import write

BUILT_IN = {"service.json": "Service", "api.json": "API", "team.json": "Team",
            "environment.json": "Environment", "infrastructure.json": "Infrastructure",
            "action.json": "Action", "documentation.json": "Documentation",
            "scorecard.json": "Scorecard"}
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


@pytest.mark.parametrize("filename, kind", sorted(BUILT_IN.items()))
def test_kind_schema_files_follow_the_convention(filename: str, kind: str) -> None:
    schema = json.loads((schemas_dir() / filename).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://gantry.io/schemas/{filename}"
    assert schema["x-gantry-kind"] == kind
    assert schema["allOf"] == [{"$ref": "envelope.json"}]
    assert schema["properties"]["kind"] == {"const": kind}
    spec = schema["properties"]["spec"]
    assert spec["type"] == "object"
    assert spec["additionalProperties"] is False


def test_envelope_declares_no_kind() -> None:
    envelope = json.loads((schemas_dir() / "envelope.json").read_text())
    assert "x-gantry-kind" not in envelope
    assert envelope["properties"]["apiVersion"] == {"const": "gantry.io/v1",
                                                    "description": "Always gantry.io/v1."}
    metadata = envelope["$defs"]["metadata"]
    assert metadata["additionalProperties"] is False
    assert not {"createdAt", "updatedAt", "createdBy"} & set(metadata["properties"])


def test_registry_lists_kinds_case_insensitively(registry: SchemaRegistry) -> None:
    backstage_only = {"Component", "Domain", "Group", "Location", "Resource", "System", "User"}
    assert registry.kinds() == sorted(set(BUILT_IN.values()) | backstage_only)
    assert registry.schema("api") is registry.schema("API")
    assert registry.canonical("infrastructure") == "Infrastructure"
    assert registry.canonical("Widget") is None
    with pytest.raises(KeyError):
        registry.validator("Widget")


def test_a_new_file_adds_a_kind(tmp_path: Path) -> None:
    write(tmp_path, "database-cluster.json", json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [{"$ref": "envelope.json"}],
        "properties": {"kind": {"const": "DatabaseCluster"},
                       "spec": {"type": "object", "properties": {"nodes": {"type": "integer"}}}},
    }))
    registry = SchemaRegistry([tmp_path])
    assert "DatabaseCluster" in registry.kinds()
    validator = registry.validator("databasecluster")
    good = {"apiVersion": "gantry.io/v1", "kind": "DatabaseCluster",
            "metadata": {"name": "pg"}, "spec": {"nodes": 3}}
    assert validator.is_valid(good)
    assert registry.is_valid("DatabaseCluster")(good)
    bad = {**good, "metadata": {"name": "pg", "labels": {"a": 1}}}
    assert not validator.is_valid(bad)
    assert not registry.is_valid("DatabaseCluster")(bad)


def test_extra_folder_replaces_a_built_in_kind(tmp_path: Path) -> None:
    service = json.loads((schemas_dir() / "service.json").read_text())
    service["properties"]["spec"]["properties"]["type"]["enum"].append("batch")
    write(tmp_path, "service.json", json.dumps(service))
    data = {"apiVersion": "gantry.io/v1", "kind": "Service", "metadata": {"name": "x"},
            "spec": {"type": "batch", "lifecycle": "production"}}
    assert not SchemaRegistry().is_valid("Service")(data)
    assert SchemaRegistry([tmp_path]).is_valid("Service")(data)


@pytest.mark.parametrize("content, message", [
    ("{broken", "not valid JSON"),
    ("[]", "a schema must be a JSON object"),
    ('{"x-gantry-kind": "Bad", "type": 12}', "not a valid JSON Schema"),
])
def test_broken_schema_files_are_reported(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path, "bad.json", content)
    with pytest.raises(SchemaError, match=message):
        SchemaRegistry([tmp_path])


def test_missing_schema_folder(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="schemas folder not found"):
        SchemaRegistry([tmp_path / "nope"])


def test_fast_check_agrees_with_the_full_validator(registry: SchemaRegistry) -> None:
    """The compiled check only short-cuts valid documents; it must not pass invalid ones."""
    base = {"apiVersion": "gantry.io/v1", "kind": "Action", "metadata": {"name": "a"},
            "spec": {"type": "webhook", "config": {"url": "https://x.example"},
                     "inputs": [{"name": "env", "type": "select", "options": ["a"]}]}}
    variants = [base]
    for change in [("spec", "type", "github-action"), ("metadata", "name", "A"),
                   ("spec", "config", {"url": "https://x", "retries": 99}),
                   ("spec", "inputs", [{"name": "env", "type": "select"}]),
                   ("metadata", "labels", {"a": True}), ("spec", "extra", 1)]:
        section, key, value = change
        variant = json.loads(json.dumps(base))
        variant[section][key] = value
        variants.append(variant)
    for variant in variants:
        assert registry.is_valid("Action")(variant) == registry.validator("Action").is_valid(
            variant), variant


def test_kind_files_work_alone_with_check_jsonschema(tmp_path: Path) -> None:
    """A kind file is a whole-document schema; envelope.json is found beside it."""
    good = write(tmp_path, "good.yaml", "apiVersion: gantry.io/v1\nkind: Service\n"
                 "metadata: {name: x}\nspec: {type: backend, lifecycle: production}\n")
    bad = write(tmp_path, "bad.yaml", "apiVersion: gantry.io/v1\nkind: Service\n"
                "metadata: {name: x}\nspec: {type: backnd, lifecycle: production}\n")
    schema = schemas_dir() / "service.json"
    command = [str(CHECK_JSONSCHEMA), "--schemafile", str(schema), "--base-uri",
               schema.resolve().as_uri()]
    assert subprocess.run([*command, str(good)], capture_output=True).returncode == 0
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "'backnd' is not one of" in failed.stdout


def test_combined_schema_checks_any_kind_offline(tmp_path: Path,
                                                 registry: SchemaRegistry) -> None:
    schema = write(tmp_path, "catalog.schema.json", json.dumps(registry.combined()))
    good = write(tmp_path, "team.yaml", "apiVersion: gantry.io/v1\nkind: Team\n"
                 "metadata: {name: t}\nspec: {members: [{name: alice}]}\n")
    bad = write(tmp_path, "action.yaml", "apiVersion: gantry.io/v1\nkind: Action\n"
                "metadata: {name: a}\nspec: {type: webhook, config: {workflow: x}}\n")
    command = [str(CHECK_JSONSCHEMA), "--schemafile", str(schema)]
    assert subprocess.run([*command, str(good)], capture_output=True).returncode == 0
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "'url' is a required property" in failed.stdout



def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def test_fast_check_never_passes_a_mutated_invalid_document(registry: SchemaRegistry) -> None:
    """Random single changes to realistic documents: whenever the full validator refuses one,
    the compiled short-cut must refuse it too."""
    rng = random.Random(11)
    replacements = [None, 1, -5, 2.5, True, "", "X Y", "javascript:x", "a/b", [], {}, ["a"],
                    {"a": 1}, "backend", "https://x", 301, 0, "a\n"]
    refused = 0
    for document in documents(80, seed=5):
        paths = _paths(document)
        for _ in range(8):
            variant = copy.deepcopy(document)
            path = rng.choice(paths)
            parent = variant
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict) and rng.random() < 0.2:
                parent.pop(path[-1])
            elif isinstance(parent, dict) and rng.random() < 0.2:
                parent["unexpected"] = 1
            else:
                parent[path[-1]] = rng.choice(replacements)
            kind = document["kind"]
            if not registry.validator(kind).is_valid(variant):
                refused += 1
                assert not registry.is_valid(kind)(variant), (path, variant)
    assert refused > 200
