"""Writing the site's files: only when their content changed, and atomically."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class WriteTally:
    """How many files were written or left alone, and the largest entity page seen."""

    written: int = 0
    unchanged: int = 0
    max_entity_bytes: int = 0
    max_entity_ref: str = ""

    def add(self, other: WriteTally) -> None:
        self.written += other.written
        self.unchanged += other.unchanged
        if other.max_entity_bytes > self.max_entity_bytes:
            self.max_entity_bytes = other.max_entity_bytes
            self.max_entity_ref = other.max_entity_ref


def write_if_changed(path: Path, content: bytes, tally: WriteTally) -> bool:
    """Write `content` unless the file already holds exactly it; True when written.

    Unchanged files keep their modification time, so static hosts and browsers keep their
    caches and a rebuild of an unchanged catalog touches nothing. A new file is written in
    place (nobody can be reading it yet); an existing one is replaced atomically.
    """
    try:
        with open(path, "rb") as existing:
            if existing.read() == content:
                tally.unchanged += 1
                return False
    except FileNotFoundError:
        try:
            handle = open(path, "xb")
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "xb")
        with handle:
            handle.write(content)
        tally.written += 1
        return True
    except IsADirectoryError:
        shutil.rmtree(path)
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(content)
    os.replace(temporary, path)
    tally.written += 1
    return True


def write_new_page(folder: Path, content: bytes, tally: WriteTally) -> None:
    """Create `folder` (its parent exists) and its index.html: the fewest system calls, for
    cold builds into an empty output folder."""
    os.mkdir(folder)
    with open(folder / "index.html", "xb") as handle:
        handle.write(content)
    tally.written += 1


def remove_page(folder: Path) -> bool:
    """Delete an entity page folder and prune parents left empty; True when it existed."""
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    parent = folder.parent
    for _ in range(2):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True
