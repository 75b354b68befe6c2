"""Fixtures of the runner tests: a temporary catalog repository and a real `gantry serve`.

API contract checks use the in-process app (`api` in tests/conftest.py). The process is
for what only a process shows: serving over HTTP, WebSockets, CLI commands next to a
running server. One runner process per test worker serves those tests (starting one
builds the index and the site, which takes seconds); tests that need other settings or
break the runner on purpose start their own. Users are created with unique names, so
tests never collide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.runner_process import RunnerProcess, make_catalog_repo


@pytest.fixture(scope="session")
def runner_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Git repository (catalog/ and gantry.yaml) served by the shared runner."""
    return make_catalog_repo(tmp_path_factory.mktemp("shared") / "repo")


@pytest.fixture(scope="session")
def runner(runner_repo: Path) -> Iterator[RunnerProcess]:
    """A real `gantry serve` process shared by the tests of one worker."""
    with RunnerProcess(runner_repo / "catalog", runner_repo.parent / "data") as process:
        yield process


@pytest.fixture(scope="session")
def configured_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerProcess]:
    """A runner behind a trusted proxy on 127.0.0.1 that may probe 127.0.0.0/8 targets."""
    base = tmp_path_factory.mktemp("configured")
    repo = make_catalog_repo(base / "repo")
    env = {"GANTRY_TRUSTED_PROXIES": "127.0.0.1",
           "GANTRY_HEALTHCHECK_ALLOWED_NETWORKS": "127.0.0.0/8"}
    with RunnerProcess(repo / "catalog", base / "data", env=env) as process:
        yield process


@pytest.fixture
def catalog_repo(tmp_path: Path) -> Path:
    """A fresh Git repository seeded with the example catalog, for one test."""
    return make_catalog_repo(tmp_path / "repo")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_user(runner: RunnerProcess) -> Callable[[str], tuple[str, str]]:
    """Create a user with a unique name and the given role; returns (name, session token)."""

    def make(role: str) -> tuple[str, str]:
        name = unique(role.replace("-", ""))
        return name, runner.create_user(name, role)

    return make
