"""Helpers for the catalog-core tests: temporary catalogs and the real `gantry` script."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.structure.kinds import SchemaRegistry

GANTRY = Path(sys.executable).parent / "gantry"


def write(root: Path, relpath: str, text: str | bytes) -> Path:
    """Write one catalog file (dedented text, or raw bytes) and return its path."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run_gantry(*args: str, cwd: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess:
    """Run the installed `gantry` console script, as a user or a CI job would."""
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    full_env.update(env or {})
    return subprocess.run([str(GANTRY), *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=120)


TEAM = """
    apiVersion: gantry.io/v1
    kind: Team
    metadata:
      name: platform-team
    spec:
      members:
        - name: alice
          email: alice@example.com
          role: lead
"""

SERVICE = """
    apiVersion: gantry.io/v1
    kind: Service
    metadata:
      name: payment-api
      owner: platform-team
    spec:
      type: backend
      lifecycle: production
"""


@functools.cache
def shared_registry() -> SchemaRegistry:
    """One registry per test process: building one costs a fraction of a second."""
    return SchemaRegistry()


@pytest.fixture
def registry() -> SchemaRegistry:
    return shared_registry()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A small valid catalog: a Team and a Service it owns."""
    root = tmp_path / "catalog"
    write(root, "Team/default/platform-team.yaml", TEAM)
    write(root, "Service/default/payment-api.yaml", SERVICE)
    return root
