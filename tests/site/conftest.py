"""Fixtures for the site tests: the example catalog in a real Git repository, indexed with
the real index builder and rendered into a site; and crafted catalogs for edge cases."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from generator.index.build import build_index
from generator.site.build import SiteStats, build_site

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Site Tests", "GIT_AUTHOR_EMAIL": "site-tests@example.com",
    "GIT_COMMITTER_NAME": "Site Tests", "GIT_COMMITTER_EMAIL": "site-tests@example.com",
    "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=GIT_ENV).stdout


def make_repo(root: Path, remote: str | None = "git@github.com:acme/portal.git") -> Path:
    """A Git repository at `root` holding a copy of the example catalog, one commit."""
    shutil.copytree(PROJECT_ROOT / "catalog", root / "catalog")
    git(root, "init", "-q", "-b", "main")
    if remote:
        git(root, "remote", "add", "origin", remote)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Import the catalog")
    return root


@dataclass
class Built:
    repo: Path
    catalog: Path
    index: Path
    site: Path
    stats: SiteStats
    config: dict

    def page(self, relative: str) -> str:
        return (self.site / relative).read_text(encoding="utf-8")


def build(repo: Path, config: dict | None = None) -> Built:
    catalog = repo / "catalog"
    index = repo / "dist" / "catalog.duckdb"
    build_index(catalog, index)
    site = repo / "dist" / "site"
    stats = build_site(index, catalog, site, config=config)
    return Built(repo, catalog, index, site, stats, config or {})


def example_config() -> dict:
    config = yaml.safe_load((PROJECT_ROOT / "gantry.yaml").read_text())
    config.pop("repoUrl", None)  # the Git remote is used instead, and tested
    return config


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The example catalog and gantry.yaml, built once per test process."""
    repo = make_repo(tmp_path_factory.mktemp("example"))
    return build(repo, example_config())


@pytest.fixture
def fresh_example(tmp_path: Path) -> Built:
    """A private copy of the example, for tests that change files."""
    return build(make_repo(tmp_path / "repo"), example_config())


@pytest.fixture
def serve_under():
    """Serve a folder over HTTP on a free port; yields a function(folder) -> base URL."""
    servers: list[ThreadingHTTPServer] = []

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    def start(folder: Path) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
