"""The GitOps loop against a real bare repository: push, pull, a concurrent remote commit
(rebase), a conflicting one (reported, nothing lost), status, history and files."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import websocket
import yaml

from tests.plugins.fakes.git_http import GitHttpServer
from tests.support.runner_process import RunnerProcess, git, make_catalog_repo

pytestmark = pytest.mark.xdist_group("plugins-gitops")


def history_size(client: httpx.Client) -> int:
    return len(client.get("/api/v1/plugins/gitops/history").json())


def wait_for_history(client: httpx.Client, count: int, timeout: float = 60) -> list[dict]:
    """The history once it holds `count` entries and nothing runs any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = client.get("/api/v1/plugins/gitops/history").json()
        if len(entries) >= count and client.get(
                "/api/v1/plugins/gitops/status").json()["running"] is None:
            return entries
        time.sleep(0.2)
    raise AssertionError(f"no {count} history entries in time: {entries}")


def remote_clone(bare: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(bare), str(target)], check=True)
    git(target, "config", "user.name", "Remote Person")
    git(target, "config", "user.email", "remote@example.com")
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def put_description(client: httpx.Client, name: str, text: str) -> None:
    entity = client.get(f"/api/v1/entities/service/{name}").json()
    entity["metadata"]["description"] = text
    response = client.put(f"/api/v1/entities/service/{name}", json=entity)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One runner for the module (tests use distinct entities and relative history)."""
    base = tmp_path_factory.mktemp("gitops")
    repo = make_catalog_repo(base / "repo", with_remote=True)
    bare = base / "repo-remote.git"
    with RunnerProcess(repo / "catalog", base / "data") as runner, runner.client() as client:
        enabled = client.put("/api/v1/plugins/gitops/enable", json={"enabled": True})
        assert enabled.status_code == 200, enabled.text
        yield runner, client, repo, bare


@pytest.fixture
def loop(shared, tmp_path):
    runner, client, repo, bare = shared
    return runner, client, repo, bare, tmp_path


def test_status_files_and_push(loop):
    runner, client, repo, bare, _tmp = loop
    status = client.get("/api/v1/plugins/gitops/status").json()
    assert status["connected"] is True and status["branch"] == "main"
    assert status["repoUrl"] == str(bare)
    assert status["lastCommit"] == git(repo, "rev-parse", "HEAD").strip()
    assert status["pendingFiles"] == 0 and status["lastError"] == ""

    files = client.get("/api/v1/plugins/gitops/files").json()
    assert {"path": "Service/default/payment-api.yaml", "kind": "Service",
            "namespace": "default", "name": "payment-api"} in files
    assert len({f["path"] for f in files}) > 10

    put_description(client, "notification-worker", "Sends the mail")
    assert client.get("/api/v1/plugins/gitops/status").json()["pendingFiles"] == 1
    seen = history_size(client)
    accepted = client.post("/api/v1/plugins/gitops/sync")
    assert accepted.status_code == 202 and accepted.json()["operation"] == "push"
    entry = wait_for_history(client, seen + 1)[0]
    assert entry["operation"] == "push" and entry["status"] == "succeeded", entry
    assert entry["files"] == ["Service/default/notification-worker.yaml"]
    assert git(bare, "rev-parse", "main").strip() == git(repo, "rev-parse", "HEAD").strip()
    status = client.get("/api/v1/plugins/gitops/status").json()
    assert status["pendingFiles"] == 0 and status["lastPushAt"]


def test_pull_reindexes_what_changed(loop):
    runner, client, repo, bare, tmp = loop
    other = remote_clone(bare, tmp / "other")
    edit_yaml(other / "catalog/Service/default/user-service.yaml",
              lambda d: d["metadata"].__setitem__("description", "Pulled from the remote"))
    git(other, "commit", "-qam", "Describe user-service")
    git(other, "push", "-q", "origin", "main")

    socket = websocket.create_connection(runner.url("/api/v1/ws").replace("http", "ws", 1),
                                         header=[f"Authorization: Bearer {runner.admin_token}"],
                                         timeout=30)
    socket.send(json.dumps({"action": "subscribe", "channel": "entities"}))
    seen = history_size(client)
    assert client.post("/api/v1/plugins/gitops/pull").status_code == 202
    entry = wait_for_history(client, seen + 1)[0]
    assert entry["operation"] == "pull" and entry["status"] == "succeeded", entry
    try:
        message = json.loads(socket.recv())
        while message.get("type") not in ("entity.updated",):
            message = json.loads(socket.recv())
    finally:
        socket.close()
    assert message["payload"]["metadata"]["name"] == "user-service"
    assert message["payload"]["metadata"]["description"] == "Pulled from the remote"
    assert entry["files"] == ["Service/default/user-service.yaml"]
    assert git(repo, "rev-parse", "HEAD").strip() == git(other, "rev-parse", "HEAD").strip()
    entity = client.get("/api/v1/entities/service/user-service").json()
    assert entity["metadata"]["description"] == "Pulled from the remote"
    assert client.get("/api/v1/plugins/gitops/status").json()["lastPullAt"]


def test_push_after_remote_moved_rebases_and_retries(loop):
    runner, client, repo, bare, tmp = loop
    put_description(client, "storefront-bff", "Runner-side change")
    other = remote_clone(bare, tmp / "other")
    edit_yaml(other / "catalog/Service/default/order-service.yaml",
              lambda d: d["metadata"].__setitem__("description", "Remote-side change"))
    git(other, "commit", "-qam", "Remote change")
    git(other, "push", "-q", "origin", "main")

    seen = history_size(client)
    assert client.post("/api/v1/plugins/gitops/sync").status_code == 202
    entry = wait_for_history(client, seen + 1)[0]
    assert entry["status"] == "succeeded", entry
    log = git(bare, "log", "--format=%s", "main").splitlines()
    assert log[1] == "Remote change"  # the runner's commit was replayed on top
    assert git(bare, "rev-parse", "main").strip() == git(repo, "rev-parse", "HEAD").strip()
    assert "Service/default/order-service.yaml" in entry["files"]
    order = client.get("/api/v1/entities/service/order-service").json()
    assert order["metadata"]["description"] == "Remote-side change"
    bff = yaml.safe_load(git(bare, "show", "main:catalog/Service/default/storefront-bff.yaml"))
    assert bff["metadata"]["description"] == "Runner-side change"


def test_conflict_is_reported_and_nothing_is_lost(loop):
    runner, client, repo, bare, tmp = loop
    put_description(client, "payment-api", "The runner says this")
    runner_commit = git(repo, "rev-parse", "HEAD").strip()
    other = remote_clone(bare, tmp / "other")
    edit_yaml(other / "catalog/Service/default/payment-api.yaml",
              lambda d: d["metadata"].__setitem__("description", "The remote says that"))
    git(other, "commit", "-qam", "Conflicting change")
    git(other, "push", "-q", "origin", "main")

    seen = history_size(client)
    assert client.post("/api/v1/plugins/gitops/sync").status_code == 202
    entry = wait_for_history(client, seen + 1)[0]
    assert entry["status"] == "conflict", entry
    status = client.get("/api/v1/plugins/gitops/status").json()
    assert "conflict" in status["lastError"]
    assert "Service/default/payment-api.yaml" in status["lastError"]
    side = next(b.strip(" *") for b in git(repo, "branch", "--list", "gantry/conflict-*")
                .splitlines())
    assert side in status["lastError"]
    # the runner's commit is kept on the side branch, locally and on the remote
    assert git(repo, "rev-parse", side).strip() == runner_commit
    assert git(bare, "rev-parse", side).strip() == runner_commit
    # and the runner's branch follows the remote (the repository is the truth)
    assert git(repo, "rev-parse", "HEAD").strip() == git(bare, "rev-parse", "main").strip()
    entity = client.get("/api/v1/entities/service/payment-api").json()
    assert entity["metadata"]["description"] == "The remote says that"
    assert git(repo, "status", "--porcelain").strip() == ""

    # the next operation that succeeds clears the error
    assert client.post("/api/v1/plugins/gitops/pull").status_code == 202
    wait_for_history(client, seen + 2)
    assert client.get("/api/v1/plugins/gitops/status").json()["lastError"] == ""


def test_auth_token_reaches_an_https_style_remote_and_nowhere_else(tmp_path):
    token = "tok-" + "s3cr3t" * 4
    remotes = tmp_path / "remotes"
    remotes.mkdir()
    bare = remotes / "catalog.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    repo = make_catalog_repo(tmp_path / "repo")
    with GitHttpServer(remotes, token) as host, \
            RunnerProcess(repo / "catalog", tmp_path / "data") as runner, \
            runner.client() as client:
        refused = client.put("/api/v1/plugins/gitops/enable", json={"enabled": True})
        assert refused.status_code == 409 and "repoUrl" in refused.json()["error"]
        assert client.get("/api/v1/plugins/gitops/status").status_code == 409

        url = f"{host.base_url}/catalog.git"
        client.put("/api/v1/plugins/gitops/config", json={"repoUrl": url, "authToken": "wrong"})
        assert client.put("/api/v1/plugins/gitops/enable",
                          json={"enabled": True}).status_code == 200
        assert client.get("/api/v1/plugins/gitops/status").json()["connected"] is False
        client.post("/api/v1/plugins/gitops/sync")
        failed = wait_for_history(client, 1)[0]
        assert failed["status"] == "failed"

        config = client.get("/api/v1/plugins/gitops/config").json()
        config["authToken"] = token
        assert client.put("/api/v1/plugins/gitops/config", json=config).status_code == 200
        client.post("/api/v1/plugins/gitops/sync")
        entry = wait_for_history(client, 2)[0]
        assert entry["status"] == "succeeded", entry  # the empty remote got its branch
        assert git(bare, "rev-parse", "main").strip() == git(repo, "rev-parse", "HEAD").strip()
        assert host.expected in host.authorizations
        views = "".join(client.get(f"/api/v1/plugins/gitops/{p}").text
                        for p in ("status", "history")) + client.get(
            "/api/v1/plugins/gitops/config").text
        assert token not in views
        assert token not in (repo / ".git/config").read_text()
        assert token not in runner.log()
