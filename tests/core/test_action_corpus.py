"""`gantry validate` and the runner accept and refuse the same Action documents.

Every document of `action_corpus/` goes through the CLI validator (`validate_catalog`, what
`gantry validate` runs in CI and the entity API runs before a write) and through the
runner's check of an action (`runner.actions.checks`, what listing and running an action
consult). Documents under `good/` must pass both; each one under `bad/` must fail both, at the
same places of the file, and at the field its first line names (`# field: spec.config.url`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from generator.load import locate_many
from generator.structure.kinds import SchemaRegistry
from generator.validate import validate_catalog
from generator.validate.action_spec import config_types
from generator.validate.finding import dotted
from runner.actions.checks import action_problems, located_problems

CORPUS = Path(__file__).parent / "action_corpus"
DOCUMENTS = sorted(path.relative_to(CORPUS).as_posix() for path in CORPUS.rglob("*.yaml"))


@pytest.fixture(scope="module")
def cli():
    """The CLI validator's verdict on the whole corpus: entities and problems by file."""
    result = validate_catalog(CORPUS, SchemaRegistry(), display_root="")
    problems = defaultdict(list)
    for problem in result.problems:
        problems[problem.file].append(problem)
    return {entity.path: entity for entity in result.entities}, problems


def expected_field(relpath: str) -> str:
    first = (CORPUS / relpath).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# field: "), f"{relpath} must name the field it gets wrong"
    return first.removeprefix("# field: ")


@pytest.mark.parametrize("relpath", DOCUMENTS)
def test_the_cli_and_the_runner_give_the_same_verdict_at_the_same_place(cli, relpath):
    entities, problems = cli
    entity = entities[relpath]
    by_cli = problems.get(relpath, [])
    by_runner = located_problems(entity.data)
    assert all(problem.severity == "error" for problem in by_cli)
    if relpath.startswith("good/"):
        assert by_cli == [] and by_runner == [], (by_cli, by_runner)
        return
    assert by_cli and by_runner, (by_cli, by_runner)
    runner_places = locate_many(CORPUS, entity, [(path, key) for path, key, _ in by_runner])
    assert set(runner_places) == {(p.line, p.column) for p in by_cli}, (by_cli, by_runner)
    assert {message for _p, _k, message in by_runner} == {p.message for p in by_cli}
    field = expected_field(relpath)
    assert field in {dotted(path) for path, _key, _message in by_runner}, by_runner
    parent, _, key = field.rpartition(".")
    assert any(p.message.startswith((f"{field}: ", f"{parent}: unexpected key '{key}'"))
               for p in by_cli), by_cli


def test_the_corpus_covers_every_executor_type_and_input_type():
    documents = [yaml.safe_load((CORPUS / relpath).read_text()) for relpath in DOCUMENTS]
    for folder in ("good/", "bad/"):
        types = {doc["spec"].get("type") for relpath, doc in zip(DOCUMENTS, documents,
                                                                  strict=True)
                 if relpath.startswith(folder)}
        assert set(config_types()) <= types, (folder, types)
    input_types = {item.get("type") for doc in documents
                   for item in (doc["spec"].get("inputs") or []) if isinstance(item, dict)}
    assert {"string", "textarea", "number", "boolean", "select"} <= input_types


def test_the_old_drift_is_gone():
    """The runner once refused GET, DELETE and timeouts above 120 s that CI accepted."""
    for relpath in ("good/webhook-get-long-timeout.yaml", "good/webhook-delete.yaml"):
        assert action_problems(yaml.safe_load((CORPUS / relpath).read_text())) == []


def test_gantry_validate_fails_on_exactly_the_bad_documents():
    """The command itself, as CI runs it, refuses the bad folder and accepts the good one."""
    for folder, code in (("good", 0), ("bad", 1)):
        done = subprocess.run([str(Path(sys.executable).parent / "gantry"), "validate",
                               str(CORPUS / folder), "--format", "json"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == code, done.stderr
        if folder == "bad":
            refused = {Path(line).name for line in _files(done.stdout)}
            assert refused == {Path(p).name for p in DOCUMENTS if p.startswith("bad/")}


def _files(output: str) -> set[str]:
    return {problem["file"] for problem in json.loads(output)["problems"]}
