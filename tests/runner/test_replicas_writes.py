"""Catalog writes across two `gantry serve` replicas: one bare `origin`, two clones, one
real PostgreSQL. A write on A is pushed to `origin` and searchable on B within 5 seconds with
the same ETag; two conflicting writes on A and B end in one success and one 409."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.runner.test_replicas_process import start_together
from tests.support.runner_process import RunnerProcess, git, http, make_catalog_repo

SYNC_SECONDS = 5.0


@contextmanager
def two_replicas(tmp_path: Path, pg_url: str
                 ) -> Iterator[tuple[RunnerProcess, RunnerProcess, Path]]:
    """Replicas A and B on one PostgreSQL, each in its own clone of one bare `origin`."""
    first = make_catalog_repo(tmp_path / "a", with_remote=True)
    bare = tmp_path / "a-remote.git"
    second = clone(bare, tmp_path / "b")
    env = {"GANTRY_DATABASE_URL": pg_url}
    a = RunnerProcess(first / "catalog", tmp_path / "a-data", env=env)
    b = RunnerProcess(second / "catalog", tmp_path / "b-data", env=env)
    start_together([a, b])
    try:
        yield a, b, bare
    finally:
        a.stop()
        b.stop()


def service(name: str, description: str) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "description": description},
            "spec": {"type": "backend", "lifecycle": "development"}}


def clone(bare, target):
    subprocess.run(["git", "clone", "-q", str(bare), str(target)], check=True)
    for key, value in (("user.name", "Gantry Tests"), ("user.email", "tests@example.com"),
                       ("commit.gpgsign", "false")):
        git(target, "config", key, value)
    return target


def wait_searchable(runner: RunnerProcess, name: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < SYNC_SECONDS:
        found = http.get(runner.url("/api/v1/search"), params={"q": name},
                         headers=runner.auth())
        assert found.status_code == 200, found.text
        if any(hit["name"] == name for hit in found.json()):
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{name} not searchable on {runner.base_url} within {SYNC_SECONDS} s")


@pytest.mark.timeout(300)
def test_a_write_on_one_replica_reaches_the_other_and_conflicts_end_in_one_409(tmp_path,
                                                                             pg_url):
    with two_replicas(tmp_path, pg_url) as (a, b, bare):
        created = http.post(a.url("/api/v1/entities"), headers=a.auth(),
                            json=service("replicated-svc", "written on A"))
        assert created.status_code == 201, created.text
        assert "replicated-svc" in git(bare, "show", "--stat", "HEAD")
        wait_searchable(b, "replicated-svc")
        on_a = http.get(a.url("/api/v1/entities/service/replicated-svc"), headers=a.auth())
        on_b = http.get(b.url("/api/v1/entities/service/replicated-svc"), headers=b.auth())
        assert on_b.status_code == 200
        assert on_a.headers["ETag"] == on_b.headers["ETag"]
        etag = on_a.headers["ETag"]

        statuses: dict[str, int] = {}
        barrier = threading.Barrier(2)

        def put(runner: RunnerProcess, label: str) -> None:
            barrier.wait()
            answer = http.put(runner.url("/api/v1/entities/service/replicated-svc"),
                              headers={**runner.auth(), "If-Match": etag},
                              json=service("replicated-svc", f"changed on {label}"))
            statuses[label] = answer.status_code

        threads = [threading.Thread(target=put, args=(r, label))
                   for r, label in ((a, "A"), (b, "B"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(statuses.values()) == [200, 409], statuses
        winner = "A" if statuses["A"] == 200 else "B"
        time.sleep(SYNC_SECONDS / 2)
        for runner in (a, b):
            shown = http.get(runner.url("/api/v1/entities/service/replicated-svc"),
                             headers=runner.auth()).json()
            assert shown["metadata"]["description"] == f"changed on {winner}"
        assert f"changed on {winner}" in git(bare, "show", "HEAD")


def announcement_titles(runner: RunnerProcess) -> list[str]:
    config = http.get(runner.url("/api/v1/dashboard/config"), headers=runner.auth())
    assert config.status_code == 200, config.text
    return [item["title"] for item in config.json().get("announcements") or []]


def announce(runner: RunnerProcess, title: str) -> int:
    return http.put(runner.url("/api/v1/dashboard/config"), headers=runner.auth(), json={
        "announcements": [{"title": title, "message": "set on a replica",
                           "severity": "info"}]}).status_code


def eventually(check, seconds: float = SYNC_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {check.__doc__}")
        time.sleep(0.1)


@pytest.mark.timeout(300)
def test_a_dashboard_change_is_pushed_and_reaches_the_other_replica(tmp_path, pg_url):
    with two_replicas(tmp_path, pg_url) as (a, b, bare):
        assert announce(a, "Set on A") == 200
        assert "Set on A" in git(bare, "show", "HEAD:gantry.yaml")

        def b_has_it() -> bool:
            """B's dashboard and site show A's announcement"""
            page = http.get(b.url("/")).text
            return announcement_titles(b) == ["Set on A"] and "Set on A" in page

        eventually(b_has_it)

        statuses: dict[str, int] = {}
        barrier = threading.Barrier(2)

        def put(runner: RunnerProcess, label: str) -> None:
            barrier.wait()
            statuses[label] = announce(runner, f"Set on {label} again")

        threads = [threading.Thread(target=put, args=(r, label))
                   for r, label in ((a, "A"), (b, "B"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert 200 in statuses.values() and set(statuses.values()) <= {200, 409}, statuses
        published = git(bare, "show", "HEAD:gantry.yaml")
        kept = [label for label, status in statuses.items()
                if status == 200 and f"Set on {label} again" in published]
        assert len(kept) == 1, (statuses, published)

        def converged() -> bool:
            """both replicas show the announcement origin holds"""
            wanted = [f"Set on {kept[0]} again"]
            return announcement_titles(a) == wanted and announcement_titles(b) == wanted

        eventually(converged)
