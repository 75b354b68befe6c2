"""The runner's site after a refresh: a docs edit (a pull that changed only Markdown)
re-renders that docs folder and nothing else; a YAML write re-renders no docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.catalog.workspace import Workspace
from tests.support.workspace import started_workspace

RUNBOOK = "catalog/documentation/default/payment-api-runbook/docs"
ARCHITECTURE = "catalog/documentation/default/platform-architecture/docs/index.html"


@pytest.fixture
def workspace(tmp_path: Path):
    yield from started_workspace(tmp_path)


def test_a_markdown_change_rerenders_only_its_folder(workspace: Workspace) -> None:
    site = workspace.site_dir
    alerts = site / RUNBOOK / "alerts/index.html"
    other = site / ARCHITECTURE
    assert alerts.is_file() and other.is_file()
    other_mtime = other.stat().st_mtime_ns
    source = workspace.catalog_root / "docs/payment-api-runbook/alerts.md"
    source.write_text(source.read_text() + "\n## PulledAlert\n")
    assert workspace.refresh(["docs/payment-api-runbook/alerts.md"]) == set()
    assert workspace.wait_for_site(120)
    assert "PulledAlert" in alerts.read_text()
    assert other.stat().st_mtime_ns == other_mtime

    alerts_mtime = alerts.stat().st_mtime_ns
    service = workspace.catalog_root / "Service/default/payment-api.yaml"
    service.write_text(service.read_text().replace("Handles all payment processing",
                                                   "Handles payments"))
    assert workspace.refresh(["Service/default/payment-api.yaml"])
    assert workspace.wait_for_site(120)
    page = site / "catalog/service/default/payment-api/index.html"
    assert "Handles payments" in page.read_text()
    assert alerts.stat().st_mtime_ns == alerts_mtime
