"""A runner `Workspace` started in this process on a copy of the example catalog in Git."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from runner.catalog.workspace import Workspace
from runner.config import Settings
from tests.support.runner_process import make_catalog_repo


def started_workspace(tmp_path: Path, kind: type[Workspace] = Workspace
                      ) -> Iterator[Workspace]:
    """Yield a started workspace of class `kind` (a fixture's body); stopped afterwards."""
    repo = make_catalog_repo(tmp_path / "repo")
    started = kind(Settings(catalog=repo / "catalog", data_dir=tmp_path / "data",
                            secret_key="in-process-workspace-secret"))
    started.start()
    yield started
    started.stop()
    started._close_db()
