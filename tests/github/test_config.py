"""`spec.config` of github-action actions is checked when the action is loaded (no I/O)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from runner.actions.checks import action_problems
from runner.actions.executors import EXECUTORS
from runner.actions.executors.github_action import (
    EXECUTOR,
    parse_config,
    workflow_inputs,
)

CATALOG = Path(__file__).resolve().parents[2] / "catalog"


def test_the_executor_is_registered():
    assert EXECUTORS["github-action"] is EXECUTOR


def github_actions() -> list[Path]:
    return [path for path in sorted((CATALOG / "Action").rglob("*.yaml"))
            if yaml.safe_load(path.read_text())["spec"]["type"] == "github-action"]


@pytest.mark.parametrize("path", github_actions(), ids=lambda path: path.stem)
def test_example_github_actions_are_accepted(path):
    assert action_problems(yaml.safe_load(path.read_text())) == []


def test_defaults_and_both_repository_forms(monkeypatch):
    monkeypatch.delenv("GANTRY_GITHUB_POLL_INTERVAL")
    target, problems = parse_config({"repository": "acme/deployments", "workflow": "deploy.yml"})
    assert problems == []
    assert (target.owner, target.repo, target.ref, target.host) == (
        "acme", "deployments", "main", None)
    assert (target.timeout, target.follow_timeout, target.poll_interval) == (60, 3600, 3)
    target, _ = parse_config({"repoURL": "https://github.com/acme/infra.git",
                              "workflow": ".github/workflows/provision.yaml", "ref": "v1.2"})
    assert (target.owner, target.repo, target.host, target.workflow, target.ref) == (
        "acme", "infra", "github.com", "provision.yaml", "v1.2")
    target, _ = parse_config({"repoURL": "https://www.GitHub.com/acme/infra/",
                              "workflow": "x.yml"})
    assert target.host == "github.com" and target.repo == "infra"
    assert parse_config({"repository": "a/b", "workflow": 161335})[0].workflow == "161335"


@pytest.mark.parametrize(("value", "expected"), [("0.25", 0.25), ("abc", 3.0), ("0", 3.0),
                                                 ("61", 3.0)])
def test_poll_interval_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("GANTRY_GITHUB_POLL_INTERVAL", value)
    assert parse_config({"repository": "a/b", "workflow": "w.yml"})[0].poll_interval == expected


@pytest.mark.parametrize(("config", "message"), [
    ({"workflow": "deploy.yml"}, "spec.config: needs 'repository' or 'repoURL'"),
    ({"repository": "acme", "workflow": "d.yml"},
     "config.repository: 'acme' is not valid: expected owner/name"),
    ({"repository": "a/b", "repoURL": "https://github.com/a/b", "workflow": "d.yml"},
     "keep one"),
    ({"repoURL": "git@github.com:a/b.git", "workflow": "d.yml"},
     "config.repoURL: 'git@github.com:a/b.git' is not valid: expected an http"),
    ({"repository": "a/b"}, "spec.config: missing required key 'workflow'"),
    ({"repository": "a/b", "workflow": "deploy.sh"},
     "config.workflow: 'deploy.sh' is neither a workflow file"),
    ({"repository": "a/b", "workflow": True}, "config.workflow: expected a string or an integer"),
    ({"repository": "a/b", "workflow": "d.yml", "ref": ""},
     "config.ref: '' is not valid: expected a branch or tag name"),
    ({"repository": "a/b", "workflow": "d.yml", "timeout": 301},
     "config.timeout: 301 is above the maximum of 300"),
    ({"repository": "a/b", "workflow": "d.yml", "timeout": 2.5}, "config.timeout"),
    ({"repository": "a/b", "workflow": "d.yml", "timeout": "60"}, "config.timeout"),
    ({"repository": "a/b", "workflow": "d.yml", "followTimeout": 0}, "config.followTimeout"),
    ({"repository": "a/b", "workflow": "d.yml", "pollInterval": 1},
     "spec.config: unexpected key 'pollInterval'"),
    ({"repository": "a/b", "workflow": "d.yml", "owner": "a"},
     "spec.config: unexpected key 'owner'"),
    ({"repository": "../..", "workflow": "d.yml"}, "'.' and '..' are not GitHub"),
    ({"repository": "acme/..", "workflow": "d.yml"}, "'.' and '..' are not GitHub"),
    ({"repository": "./deploy", "workflow": "d.yml"}, "'.' and '..' are not GitHub"),
    ({"repoURL": "https://github.com/../..", "workflow": "d.yml"}, "'.' and '..' are not"),
])
def test_bad_configs_are_refused_with_a_clear_message(config, message):
    problems = EXECUTOR.validate_config(config)
    assert any(message in problem for problem in problems), problems


def test_inputs_are_sent_as_strings_in_their_json_form():
    assert workflow_inputs({"s": "text", "n": 3, "f": 2.5, "t": True, "no": False,
                            "list": [1, "a"]}) == {
        "s": "text", "n": "3", "f": "2.5", "t": "true", "no": "false", "list": '[1, "a"]'}


def test_the_accepted_keys_are_those_of_the_action_schema():
    schema = json.loads((CATALOG.parent / "schemas" / "action.json").read_text())
    known = list(schema["$defs"]["github-action"]["properties"])
    config = {"repository": "a/b", "workflow": "d.yml", "pollInterval": 1}
    problems = EXECUTOR.validate_config(config)
    assert problems == [f"spec.config: unexpected key 'pollInterval' (allowed: {', '.join(known)})"]
