"""Backstage Locations: each target must name files Gantry can read.

In a folder catalog every YAML file under the folder is read anyway, so a Location's job is
only to say where entities are; a target Gantry cannot read (a URL, which may be on another
host, or a path that matches no file inside the catalog) is a warning at the target's line,
since Backstage would not find those entities either.
"""

from __future__ import annotations

import glob
import posixpath
from pathlib import Path

from ..structure.backstage import is_backstage
from ..structure.entity import Entity
from .finding import Finding


def location_targets(entity: Entity) -> list[tuple[tuple, str]]:
    """A Location's targets with their document paths: `target` and each of `targets`."""
    spec = entity.spec
    found: list[tuple[tuple, str]] = []
    if isinstance(spec.get("target"), str):
        found.append((("spec", "target"), spec["target"]))
    targets = spec.get("targets")
    if isinstance(targets, list):
        found += [(("spec", "targets", i), t) for i, t in enumerate(targets) if isinstance(t, str)]
    return found


def target_files(root: Path, location_path: str, target: str) -> list[str] | str:
    """The catalog files (relative posix paths) a target names, or why it cannot be read."""
    if "://" in target:
        return "a URL is not followed: Gantry reads only files inside the repository"
    relative = posixpath.normpath(posixpath.join(posixpath.dirname(location_path),
                                                 target.lstrip("/") if target.startswith("/")
                                                 else target))
    if relative == ".." or relative.startswith("../"):
        return "it points outside the catalog folder"
    matched = sorted(Path(match).relative_to(root).as_posix() for match in
                     glob.glob(str(root / relative), recursive=True) if Path(match).is_file())
    return matched or "no file inside the catalog matches it"


def location_findings(entities: list[Entity], root: Path) -> list[Finding]:
    """A `location-unreachable` warning for every target that names nothing readable."""
    findings = []
    for entity in entities:
        if entity.kind != "Location" or not is_backstage(entity):
            continue
        for path, target in location_targets(entity):
            files = target_files(root, entity.path, target)
            if isinstance(files, str):
                findings.append(Finding(entity, path, f"{path[1]}: '{target}' cannot be read: "
                                        f"{files}", "location-unreachable", severity="warning"))
    return findings
