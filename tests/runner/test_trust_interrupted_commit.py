"""A runner killed after writing an entity's file but before moving the branch.

Git's `reference-transaction` hook holds `git update-ref` at the moment the file is on
disk and the commit not yet on the branch; the whole runner (worker and git included) is
then killed. At the next start the file must be put back as committed — the caller was
never answered — so `git status` is clean and the same write succeeds instead of being
refused as someone else's uncommitted change.
"""

from __future__ import annotations

import json
import signal
import stat
import time
import uuid
from pathlib import Path

import httpx

from runner.catalog.git import JOURNAL_PREFIX, CatalogRepo, Identity
from tests.support.runner_process import (
    RunnerProcess,
    git,
    http,
    make_catalog_repo,
    make_tiny_catalog,
)

TEAM_DIR = "catalog/Team/default"
HOLD = """#!/bin/sh
if [ "$1" = prepared ]; then
  touch "{marker}"
  sleep 60
fi
"""


def _hold_ref_updates(repo: Path, marker: Path) -> Path:
    hook = repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text(HOLD.format(marker=marker), encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    return hook


def _team(name: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Team",
            "metadata": {"name": name, "description": "written before a stop"},
            "spec": {"members": [{"name": "admin"}]}}


def _wait_for(marker: Path, runner: RunnerProcess) -> None:
    deadline = time.monotonic() + 20
    while not marker.exists():
        assert time.monotonic() < deadline, runner.log()
        time.sleep(0.05)


def _wait_ready(runner: RunnerProcess) -> None:
    deadline = time.monotonic() + 30
    while http.get(runner.url("/readyz"), timeout=10).status_code != 200:
        assert time.monotonic() < deadline, runner.log()
        time.sleep(0.1)


def test_a_write_killed_before_its_commit_is_undone_at_start(tmp_path: Path) -> None:
    repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))
    data = tmp_path / "data"
    name = f"held-{uuid.uuid4().hex[:8]}"
    before = git(repo, "rev-parse", "HEAD").strip()

    runner = RunnerProcess(repo / "catalog", data).start()
    marker = tmp_path / "held"
    hook = _hold_ref_updates(repo, marker)
    try:
        http.post(runner.url("/api/v1/entities"), headers=runner.auth(), json=_team(name),
                  timeout=1)
    except httpx.TransportError:
        pass  # held by the hook: no answer
    _wait_for(marker, runner)
    written = repo / TEAM_DIR / f"{name}.yaml"
    assert written.is_file(), "the hook ran before the file was written"
    assert list((repo / ".git").glob(f"{JOURNAL_PREFIX}*.json"))
    runner.kill(signal.SIGKILL)
    hook.unlink()
    assert git(repo, "rev-parse", "HEAD").strip() == before

    runner = RunnerProcess(repo / "catalog", data).start()
    try:
        _wait_ready(runner)
        assert not written.exists(), runner.log()
        assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
        assert not list((repo / ".git").glob(f"{JOURNAL_PREFIX}*.json"))
        assert "was interrupted before it was committed" in runner.log()
        again = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                          json=_team(name))
        assert again.status_code == 201, again.text
        assert f"{TEAM_DIR}/{name}.yaml" in git(repo, "show", "--name-only", "HEAD")
    finally:
        runner.stop()


def _journal_for(repo: Path, commit: str, paths: list[str], pid: int) -> None:
    (repo / ".git" / f"{JOURNAL_PREFIX}{pid}.1.json").write_text(
        json.dumps({"pid": pid, "commit": commit, "paths": paths}), encoding="utf-8")


def _side_commit(repo: Path, files: dict[str, str]) -> str:
    """A commit that is not on the branch (as one whose `update-ref` never ran)."""
    git(repo, "checkout", "-q", "-b", "side")
    for path, text in files.items():
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", *files)
    git(repo, "commit", "-q", "-m", "never landed")
    commit = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-")
    return commit


def test_recovery_undoes_only_what_the_interrupted_commit_wrote(tmp_path: Path) -> None:
    repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))
    catalog = CatalogRepo(repo)
    author = Identity("Ada", "ada@example.com")
    landed = catalog.commit_files({"catalog/landed.yaml": b"kind: Team\n"}, author,
                                  catalog.head(), "landed")
    dead_pid = 2 ** 22 + 1  # above Linux's largest process id: no such process
    _journal_for(repo, landed, ["catalog/landed.yaml"], dead_pid)
    side = _side_commit(repo, {"catalog/new.yaml": "api write\n",
                               "catalog/edited.yaml": "api write\n"})
    (repo / "catalog" / "new.yaml").write_text("api write\n", encoding="utf-8")
    (repo / "catalog" / "edited.yaml").write_text("someone's own edit\n", encoding="utf-8")
    _journal_for(repo, side, ["catalog/new.yaml", "catalog/edited.yaml"], dead_pid + 1)

    assert catalog.recover_interrupted_commits() == ["catalog/new.yaml"]
    assert not (repo / "catalog" / "new.yaml").exists()
    assert (repo / "catalog" / "landed.yaml").read_bytes() == b"kind: Team\n"
    assert (repo / "catalog" / "edited.yaml").read_text() == "someone's own edit\n"
    assert not list((repo / ".git").glob(f"{JOURNAL_PREFIX}*.json"))
