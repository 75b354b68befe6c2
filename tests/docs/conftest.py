"""Small catalogs with docs folders, written file by file."""

from __future__ import annotations

import textwrap
from pathlib import Path

TEAM = """\
apiVersion: gantry.io/v1
kind: Team
metadata:
  name: platform-team
spec:
  members: []
"""


def write(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def service(name: str, docs: str | None = None, techdocs: str | None = None) -> str:
    """A Service document pointing at docs by the field, the annotation, or neither."""
    lines = ["apiVersion: gantry.io/v1", "kind: Service", "metadata:", f"  name: {name}",
             "  owner: platform-team"]
    if docs is not None:
        lines += ["  docs:", f"    path: {docs}"]
    if techdocs is not None:
        lines += ["  annotations:", f"    backstage.io/techdocs-ref: {techdocs}"]
    lines += ["spec:", "  type: backend", "  lifecycle: production"]
    return "\n".join(lines) + "\n"
