"""Backstage Locations: each target must name files Gantry can read.

A target Gantry cannot read (a URL, which may be on another host, or a path that matches no
file inside the catalog) is a warning at the target's line: Backstage would not find those
entities either, and the rest of the catalog is still checked.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ..selection import exclusions_for, location_targets, target_files
from ..structure.entity import Entity
from .finding import Finding


def location_findings(entities: list[Entity], root: Path,
                      files_read: Collection[str]) -> list[Finding]:
    """A `location-unreachable` warning for every target that names no file read."""
    findings = []
    exclusions = None
    for entity in entities:
        for path, target in location_targets(entity):
            exclusions = exclusions if exclusions is not None else exclusions_for(root)
            files = target_files(root, entity.path, target, exclusions, files_read)
            if isinstance(files, str):
                findings.append(Finding(entity, path, f"{path[1]}: '{target}' cannot be read: "
                                        f"{files}", "location-unreachable", severity="warning"))
    return findings
