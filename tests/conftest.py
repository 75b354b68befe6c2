"""Fixtures shared by every test directory: the runner app in this process.

`api` is the runner app built in the test process on a temporary Git repository holding
the example catalog, answered through Flask's test client (see tests/runner/inprocess.py).
API contract tests use it; tests about the `gantry serve` process use `RunnerProcess`.
One app per test worker: tests create users and entities with names of their own, so they
never depend on each other's order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.runner.inprocess import InProcessApp


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    """The runner app on the example catalog, in this process."""
    # imported here: the generator's tests never load the runner
    from tests.runner.inprocess import start_app

    yield from start_app(tmp_path_factory.mktemp("in-process"), tiny=False)


@pytest.fixture
def api_user(api: InProcessApp) -> Callable[[str], tuple[str, str]]:
    """Create a user of `api` with a unique name and the given role; (name, session token)."""

    def make(role: str) -> tuple[str, str]:
        name = f"{role.replace('-', '')}-{uuid.uuid4().hex[:10]}"
        return name, api.create_user(name, role)

    return make


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A PostgreSQL cluster of this test worker (skips when the server binaries are missing)."""
    from tests.support.postgres import INSTALL_HINT, PostgresServer, server_binaries

    binaries = server_binaries()
    if binaries is None:
        pytest.skip(INSTALL_HINT)
    try:
        server = PostgresServer(binaries).start()
    except PermissionError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL database for this test."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path) -> object:
    """Where a store test's store lives: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "gantry.db"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def any_store(store_location) -> Iterator[object]:
    """An opened, migrated store on each backend in turn."""
    from runner.store.schema import open_store

    opened = open_store(store_location)
    yield opened
    opened.close()
