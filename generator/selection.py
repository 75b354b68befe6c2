"""Which files of a catalog are read.

A folder catalog reads every YAML file under it except paths matched by the `exclude` globs
of `gantry.yaml` (gitignore syntax, relative to the folder holding gantry.yaml). A catalog
given as a file (a `catalog-info.yaml`, a Backstage `all.yaml`) reads that file and the files
its Backstage Locations name, followed from Location to Location, each file once.
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .site.config import GantryYamlError, load_config, locate_config
from .structure.backstage import is_backstage
from .structure.entity import Entity


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    negated: bool
    folders_only: bool


def _translate(glob_text: str) -> str:
    """A gitignore glob (without `!`, leading or trailing `/`) as a regex body."""
    out, i = [], 0
    while i < len(glob_text):
        if glob_text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob_text.startswith("/**", i) and i + 3 == len(glob_text):
            out.append("/.*")
            i += 3
        elif glob_text.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob_text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob_text[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob_text[i] == "[":
            end = glob_text.find("]", i + 1)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                body = glob_text[i + 1:end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end + 1
        else:
            out.append(re.escape(glob_text[i]))
            i += 1
    return "".join(out)


class Exclusions:
    """gitignore-style rules; the last rule that matches a path decides, and a path inside an
    excluded folder stays excluded (as in Git)."""

    def __init__(self, patterns: list[str], prefix: str = ""):
        self.prefix = prefix.strip("/")
        self.rules: list[_Rule] = []
        for raw in patterns:
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            negated = text.startswith("!")
            text = text[1:] if negated else text
            folders_only = text.endswith("/")
            text = text.rstrip("/")
            anchored = "/" in text
            body = _translate(text.lstrip("/"))
            regex = re.compile(("" if anchored else "(?:.*/)?") + body + "$")
            self.rules.append(_Rule(regex, negated, folders_only))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _decide(self, path: str, is_folder: bool) -> bool:
        excluded = False
        for rule in self.rules:
            if rule.folders_only and not is_folder:
                continue
            if rule.regex.match(path):
                excluded = not rule.negated
        return excluded

    def excluded(self, relpath: str, is_folder: bool = False) -> bool:
        """Whether a catalog path (relative to the catalog folder) is excluded."""
        if not self.rules:
            return False
        path = f"{self.prefix}/{relpath}" if self.prefix else relpath
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if self._decide("/".join(parts[:depth]), True):
                return True
        return self._decide(path, is_folder)


NO_EXCLUSIONS = Exclusions([])


def exclusions_for(root: Path) -> Exclusions:
    """The `exclude` rules of the gantry.yaml that governs the catalog folder `root`.

    A gantry.yaml that cannot be read excludes nothing here: `gantry build` reports it.
    """
    path = locate_config(root)
    try:
        config = load_config(path)
    except GantryYamlError:
        return NO_EXCLUSIONS
    patterns = config.get("exclude") if isinstance(config, dict) else None
    if not isinstance(patterns, list) or not patterns:
        return NO_EXCLUSIONS
    try:
        prefix = Path(root).resolve().relative_to(path.parent.resolve()).as_posix()
    except ValueError:
        return NO_EXCLUSIONS
    return Exclusions([p for p in patterns if isinstance(p, str)],
                      "" if prefix == "." else prefix)


def location_targets(entity: Entity) -> list[tuple[tuple, str]]:
    """A Backstage Location's targets with their document paths (`target`, `targets[i]`)."""
    if entity.kind != "Location" or not is_backstage(entity):
        return []
    spec = entity.spec
    found: list[tuple[tuple, str]] = []
    if isinstance(spec.get("target"), str):
        found.append((("spec", "target"), spec["target"]))
    targets = spec.get("targets")
    if isinstance(targets, list):
        found += [(("spec", "targets", i), t) for i, t in enumerate(targets) if isinstance(t, str)]
    return found


_GLOB_CHARS = re.compile(r"[*?\[]")


def target_files(root: Path, location_path: str, target: str,
                 exclusions: Exclusions = NO_EXCLUSIONS,
                 known: Collection[str] | None = None) -> list[str] | str:
    """The catalog files (relative posix paths) a Location target names, relative to the
    Location's own file (globs allowed), or the reason it cannot be read.

    `known` is the catalog's files when they are already listed (a folder catalog): the
    target is then matched against them, with no file system walk per Location.
    """
    if "://" in target or target.startswith("url:"):
        return "a URL is not followed: Gantry reads only files inside the repository"
    joined = target.lstrip("/") if target.startswith("/") else \
        posixpath.join(posixpath.dirname(location_path), target)
    relative = posixpath.normpath(joined)
    if relative == ".." or relative.startswith("../"):
        return "it points outside the catalog folder"
    if known is not None:
        if not _GLOB_CHARS.search(relative):
            matched = [relative] if relative in known else []
        else:
            pattern = re.compile(_translate(relative) + "$")
            matched = sorted(rel for rel in known if pattern.match(rel))
    else:
        matched = sorted(match.replace(os.sep, "/") for match in
                         glob.glob(relative, root_dir=root, recursive=True)
                         if os.path.isfile(os.path.join(root, match)))
    matched = [rel for rel in matched if not exclusions.excluded(rel)]
    return matched or "no file inside the catalog matches it"


def reachable_files(root: Path, entry: str) -> list[str]:
    """`entry` (a file relative to `root`) and every file its Locations reach, each once
    (cycles and files named twice are read once), in the order they are reached."""
    from .load import load_file  # load.py reads this module's exclusions: imported late

    exclusions = exclusions_for(root)
    seen = {entry}
    order: list[str] = []
    queue = deque([entry])
    while queue:
        relpath = queue.popleft()
        order.append(relpath)
        entities, _problems, _info = load_file(root, relpath, "")
        for entity in entities:
            for _path, target in location_targets(entity):
                files = target_files(root, relpath, target, exclusions)
                for found in files if isinstance(files, list) else ():
                    if found not in seen:
                        seen.add(found)
                        queue.append(found)
    return order
