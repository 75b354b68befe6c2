"""A stopped runner starts again, whatever it was doing when it was stopped.

A real `gantry serve` is ended with SIGTERM (a normal stop) and with SIGKILL (no shutdown
code runs, worker included) at several points: right after an entity write, in the middle
of a burst of writes, right after a dashboard change, while a webhook run is held open by
its receiver and right after a run was approved. Each time it is started again on the same
data folder and catalog, and must be ready within a bound, serve every write that was
answered 2xx (in Git, from the API and from search), leave no half-written file, and end
every run (resumed or failed with a reason), never lose one.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.actions.conftest import action_files, wait_for_run
from tests.actions.fakes.webhook_receiver import WebhookReceiver
from tests.support.runner_process import (
    RunnerProcess,
    git,
    http,
    make_catalog_repo,
    make_tiny_catalog,
)

READY_WITHIN = 30.0
"""Seconds from starting the process to `/readyz` answering 200."""

SIGNALS = [pytest.param(signal.SIGTERM, id="sigterm"),
           pytest.param(signal.SIGKILL, id="sigkill")]

TEAM_DIR = "catalog/Team/default"


def _team(name: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Team",
            "metadata": {"name": name, "description": f"crash test entity {name}"},
            "spec": {"members": [{"name": "admin"}]}}


def _restart(repo: Path, data: Path, env: dict[str, str] | None = None) -> RunnerProcess:
    """Start a runner on the same folders; fails unless `/readyz` is 200 within the bound."""
    started = time.monotonic()
    runner = RunnerProcess(repo / "catalog", data, env=env, startup_timeout=READY_WITHIN)
    runner.start()
    while True:
        ready = http.get(runner.url("/readyz"), timeout=10)
        if ready.status_code == 200 or time.monotonic() - started > READY_WITHIN:
            break
        time.sleep(0.1)
    assert ready.status_code == 200, (ready.text, runner.log())
    assert "Worker failed to boot" not in runner.log()
    return runner


def _committed_teams(repo: Path) -> set[str]:
    listed = git(repo, "ls-tree", "--name-only", "HEAD", f"{TEAM_DIR}/")
    return {Path(line).stem for line in listed.split()}


def _assert_served(runner: RunnerProcess, repo: Path, names: set[str]) -> None:
    """Each name is committed, answered by the API and found by search."""
    committed = _committed_teams(repo)
    for name in sorted(names):
        assert name in committed, f"{name} was answered 2xx but is not in Git"
        got = http.get(runner.url(f"/api/v1/entities/Team/{name}"), headers=runner.auth())
        assert got.status_code == 200, (name, got.text)
        assert got.json()["metadata"]["description"] == f"crash test entity {name}"
        found = http.get(runner.url("/api/v1/search"), params={"q": name},
                         headers=runner.auth())
        assert found.status_code == 200 and name in found.text, (name, found.text)


def _assert_no_half_files(repo: Path) -> None:
    """`git status` is clean: no half-written file, no temporary file, no uncommitted write."""
    status = git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored")
    assert status == "", f"unexpected changes after the stop: {status!r}"


@pytest.mark.parametrize("sig", SIGNALS)
def test_writes_survive_a_stop(tmp_path: Path, sig: signal.Signals) -> None:
    repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))
    data = tmp_path / "data"
    answered: set[str] = set()

    # Stopped right after an entity write was answered.
    runner = _restart(repo, data)
    name = f"single-{uuid.uuid4().hex[:8]}"
    response = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                         json=_team(name))
    assert response.status_code == 201, response.text
    answered.add(name)
    runner.kill(sig)

    # Stopped right after a dashboard change was answered.
    runner = _restart(repo, data)
    _assert_served(runner, repo, answered)
    _assert_no_half_files(repo)
    title = f"Announced {uuid.uuid4().hex[:6]}"
    response = http.put(runner.url("/api/v1/dashboard/config"), headers=runner.auth(),
                        json={"announcements": [{"title": title, "message": "before a stop",
                                                 "severity": "warning"}]})
    assert response.status_code == 200, response.text
    commit = response.json()["commit"]
    runner.kill(sig)

    # Stopped in the middle of a burst of writes, requests in flight.
    runner = _restart(repo, data)
    assert git(repo, "rev-parse", "HEAD").strip() == commit
    assert title in git(repo, "show", "HEAD:gantry.yaml")
    read = http.get(runner.url("/api/v1/dashboard/config"), headers=runner.auth()).json()
    assert read["announcements"][0]["title"] == title
    assert title in http.get(runner.url("/")).text
    _assert_served(runner, repo, answered)
    _assert_no_half_files(repo)

    burst = [f"burst-{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(24)]
    outcomes: dict[str, int | None] = {}
    three_answered = threading.Event()

    def write(entity: str) -> None:
        try:
            status = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                               json=_team(entity), timeout=20).status_code
        except httpx.TransportError:
            status = None
        outcomes[entity] = status
        if sum(1 for s in outcomes.values() if s == 201) >= 3:
            three_answered.set()

    with ThreadPoolExecutor(6) as pool:
        for entity in burst:
            pool.submit(write, entity)
        assert three_answered.wait(20), outcomes
        runner.kill(sig)
    ok = {entity for entity, status in outcomes.items() if status == 201}
    assert len(ok) >= 3
    assert len(ok) < len(burst) or sig == signal.SIGTERM, "the stop came too late"
    answered |= ok

    runner = _restart(repo, data)
    try:
        _assert_served(runner, repo, answered)
        _assert_no_half_files(repo)  # a write stopped before its commit is undone at start
        # Whatever reached Git is served too, answered or not: nothing committed is lost.
        for team in _committed_teams(repo):
            got = http.get(runner.url(f"/api/v1/entities/Team/{team}"), headers=runner.auth())
            assert got.status_code == 200, team
        # And the runner takes writes again.
        again = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                          json=_team(f"after-{uuid.uuid4().hex[:8]}"))
        assert again.status_code == 201, again.text
    finally:
        runner.stop()


def _actions(hook_url: str, approver: str) -> dict[str, str]:
    return {
        "held-hook": f"""
            spec:
              type: webhook
              config:
                url: {hook_url}/held
        """,
        "approved-hook": f"""
            spec:
              type: webhook
              config:
                url: {hook_url}/approved
              permissions:
                requireApproval: true
                approvers: [{approver}]
        """,
    }


@pytest.mark.parametrize("sig", SIGNALS)
def test_runs_survive_a_stop(tmp_path: Path, sig: signal.Signals) -> None:
    approver = f"approver{uuid.uuid4().hex[:6]}"
    with WebhookReceiver(hang_seconds=4.0) as hook:  # holds every delivery open a while
        repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"),
                                 extra_files=action_files(_actions(hook.url, approver)))
        data = tmp_path / "data"
        runner = _restart(repo, data)
        approver_token = runner.create_user(approver, "developer")
        held = http.post(runner.url("/api/v1/actions/held-hook/execute"),
                         headers=runner.auth(), json={})
        assert held.status_code == 201, held.text
        pending = http.post(runner.url("/api/v1/actions/approved-hook/execute"),
                            headers=runner.auth(), json={})
        assert pending.status_code == 201, pending.text
        assert pending.json()["status"] == "pending"
        hook.wait_for(1)  # the held delivery is in flight
        approved = http.post(
            runner.url(f"/api/v1/actions/approved-hook/runs/{pending.json()['id']}/approve"),
            headers=runner.auth(approver_token), json={})
        assert approved.status_code == 200, approved.text
        runner.kill(sig)
        hook.behaviour.hang_seconds = 0.0

        runner = _restart(repo, data)
        try:
            for action, run_id in (("held-hook", held.json()["id"]),
                                   ("approved-hook", pending.json()["id"])):
                run = wait_for_run(runner, action, run_id, timeout=30)
                assert run["status"] in ("success", "failed"), run
                if run["status"] == "failed":
                    assert run.get("error"), run
            keys: dict[str, set[str]] = {}
            for received in hook.requests:
                keys.setdefault(received.path, set()).add(received.headers["Idempotency-Key"])
            assert all(len(found) == 1 for found in keys.values()), keys
            assert _committed_teams(repo) == {"tiny-team"}
            _assert_no_half_files(repo)
        finally:
            runner.stop()


STORE_WRITER = textwrap.dedent("""
    import sys, threading
    from runner.store import audit
    from runner.store.schema import open_store

    store = open_store(sys.argv[1])
    said = threading.Lock()

    def write(worker):
        n = 0
        while True:
            n += 1
            entry = audit.record(store, user=f"writer-{worker}", action="update",
                                 resource_type="Crash", resource_name=f"{worker}-{n}",
                                 details={"padding": "x" * 2000})
            with said:
                sys.stdout.write(entry + "\\n")
                sys.stdout.flush()

    for worker in range(4):
        threading.Thread(target=write, args=(worker,), daemon=True).start()
    threading.Event().wait()
""")


def test_the_store_opens_cleanly_after_a_kill_mid_write(tmp_path: Path) -> None:
    """SQLite in WAL mode: killed while four threads commit, every committed row is there
    and the file passes its integrity check."""
    from runner.store.schema import open_store

    path = tmp_path / "gantry.db"
    writer = subprocess.Popen([sys.executable, "-c", STORE_WRITER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    committed = []
    assert writer.stdout is not None
    for line in writer.stdout:
        committed.append(line.strip())
        if len(committed) >= 300:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert path.with_name("gantry.db-wal").exists()  # killed with the log not yet folded in
    store = open_store(path)
    try:
        conn = store.connection()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT id FROM audit")}
        assert set(committed) <= stored
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    finally:
        store.close()
