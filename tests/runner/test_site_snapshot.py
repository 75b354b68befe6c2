"""The copy of the index the site is rendered from: whole after a checkpoint, only the
write-ahead log in between, and always equal to the live index."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from runner.catalog.site import SiteRenderer
from runner.catalog.workspace import Workspace
from tests.support.workspace import started_workspace


class NoPagesRenderer(SiteRenderer):
    """No page rendering and no worker: these tests take the snapshots themselves (the
    worker would take its own, of another file, at any moment)."""

    def build(self, changed_refs: set[str] | None, index_path: Path | None = None) -> None:
        return None

    def queue(self, refs: set[str]) -> None:
        return None


class NoSiteWorkspace(Workspace):
    site_renderer = NoPagesRenderer


@pytest.fixture
def workspace(tmp_path: Path):
    yield from started_workspace(tmp_path, NoSiteWorkspace)


def retitle(workspace: Workspace, title: str) -> None:
    path = workspace.catalog_root / "Service" / "default" / "payment-api.yaml"
    document = yaml.safe_load(path.read_text())
    document["metadata"]["title"] = title
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    workspace.refresh(["Service/default/payment-api.yaml"])


def title_in(index: Path) -> str:
    with duckdb.connect(str(index), read_only=True) as con:
        return con.execute("SELECT title FROM entities "
                           "WHERE ref = 'service:default/payment-api'").fetchone()[0]


def test_snapshot_follows_updates_with_and_without_checkpoints(workspace, tmp_path):
    target = tmp_path / "data" / "copy.duckdb"
    retitle(workspace, "First title")
    workspace.site.copy_index(target)
    assert title_in(target) == "First title"
    copied_at = target.stat().st_mtime_ns

    retitle(workspace, "Second title")  # only the log grows: the database file stays
    workspace.site.copy_index(target)
    assert target.stat().st_mtime_ns == copied_at
    assert title_in(target) == "Second title"

    with workspace.connect() as con:  # folds the log into the database file
        con.execute("CHECKPOINT")
    retitle(workspace, "Third title")
    workspace.site.copy_index(target)
    assert target.stat().st_mtime_ns != copied_at
    assert title_in(target) == "Third title"
