"""The `internal` executor: entity writes through the Git-backed path, audited."""

import httpx
import yaml

from tests.support.runner_process import git

from .conftest import wait_for_run
from .test_api import execute


def test_set_lifecycle_commits_the_label_as_the_triggering_user(runner):
    run = execute(runner, "set-lifecycle", {"service": "payment-api", "lifecycle": "deprecated"},
                  runner.tokens["bob"]).json()
    done = wait_for_run(runner, "set-lifecycle", run["id"])
    assert done["status"] == "success", done["error"]
    commit = done["outputs"]["commit"]
    author = git(runner.repo, "log", "-1", "--format=%an <%ae>", commit).strip()
    assert author.startswith("bob <")
    changed = git(runner.repo, "show", "--name-only", "--format=", commit).split()
    assert changed == ["catalog/Service/default/payment-api.yaml"]
    text = (runner.repo / "catalog/Service/default/payment-api.yaml").read_text()
    document = yaml.safe_load(text)
    assert document["metadata"]["labels"] == {"tier": "backend", "lifecycle": "deprecated"}
    assert text.startswith("# Payment API")  # comments kept: written in place
    entity = httpx.get(runner.url("/api/v1/entities/service/payment-api"),
                       headers=runner.auth(), timeout=30).json()
    assert entity["metadata"]["labels"]["lifecycle"] == "deprecated"
    audit = httpx.get(runner.url("/api/v1/audit?limit=200"), headers=runner.auth(),
                      timeout=30).json()
    entry = next(e for e in audit if e["action"] == "action.update")
    assert entry["userName"] == "bob" and entry["commit"] == commit
    assert "lifecycle" not in (entry["before"]["metadata"].get("labels") or {})
    assert entry["after"]["metadata"]["labels"]["lifecycle"] == "deprecated"


def test_internal_write_refused_by_the_catalog_fails_the_run(runner):
    run = execute(runner, "set-lifecycle", {"service": "no-such-service",
                                            "lifecycle": "production"},
                  runner.tokens["bob"]).json()
    done = wait_for_run(runner, "set-lifecycle", run["id"])
    assert done["status"] == "failed" and "does not exist" in done["error"]


def test_create_then_delete_an_entity(runner):
    # bob is a member of platform-team, which owns the documents the actions write
    created = execute(runner, "test-create-doc",
                      {"name": "release-notes", "url": "https://wiki.example.com/release"},
                      runner.tokens["bob"]).json()
    done = wait_for_run(runner, "test-create-doc", created["id"])
    assert done["status"] == "success", done["error"]
    path = runner.repo / "catalog/Documentation/default/release-notes.yaml"
    document = yaml.safe_load(path.read_text())
    assert document["metadata"]["annotations"] == {"created-by-run": created["id"]}
    assert document["spec"]["url"] == "https://wiki.example.com/release"
    assert git(runner.repo, "log", "-1", "--format=%an", done["outputs"]["commit"]).strip() == \
        "bob"

    again = execute(runner, "test-create-doc", {"name": "release-notes", "url": "https://x.io"},
                    runner.tokens["bob"]).json()
    refused = wait_for_run(runner, "test-create-doc", again["id"])
    assert refused["status"] == "failed" and "already exists" in refused["error"]

    deleted = execute(runner, "test-delete-doc", {"name": "release-notes"},
                      runner.tokens["bob"]).json()
    gone = wait_for_run(runner, "test-delete-doc", deleted["id"])
    assert gone["status"] == "success", gone["error"]
    assert not path.exists()
    entity = httpx.get(runner.url("/api/v1/entities/documentation/release-notes"),
                       headers=runner.auth(), timeout=30)
    assert entity.status_code == 404
