"""What the schema tests share: the example catalog's documents and a `$ref` collector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from generator.load import MKDOCS_FILES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def example_documents() -> list[tuple[str, dict[str, Any]]]:
    """(file, document) of every document of the example catalog."""
    found = []
    for path in sorted((PROJECT_ROOT / "catalog").rglob("*.y*ml")):
        if path.name in MKDOCS_FILES:
            continue  # MkDocs settings of a docs folder, not a catalog document
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict):
                found.append((path.relative_to(PROJECT_ROOT).as_posix(), document))
    return found


def all_refs(node: Any) -> list[str]:
    """Every `$ref` string anywhere in a schema."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in all_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in all_refs(value)]
    return []


def outside_refs(schema: dict[str, Any]) -> list[str]:
    """The references a client could not follow inside the schema itself."""
    return [ref for ref in all_refs(schema) if not (ref == "#" or ref.startswith("#/"))]
