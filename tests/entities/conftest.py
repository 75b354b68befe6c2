"""Fixtures of the entity tests: one real runner per test process (see portal.py).

Tests that write use entity names of their own, and tests that read compare with the
catalog files as they are at that moment, so the order of tests does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .portal import Portal, start_portal


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    yield from start_portal(tmp_path_factory.mktemp("portal"))
