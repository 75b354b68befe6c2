"""Entity names and namespaces: they become file paths and URLs, so the rules are strict."""

from __future__ import annotations

import re

from ..structure.backstage import is_backstage
from ..structure.entity import Entity
from .finding import Finding, show

NAME_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
NAME_RULE = ("lower-case letters, digits and '-', starting and ending with a letter or digit, "
             "at most 63 characters")


def name_error(value: str, field: str) -> str | None:
    """Why `value` is not a valid name or namespace, or None when it is."""
    if NAME_PATTERN.fullmatch(value):
        return None
    if not value:
        return "must not be empty"
    if ".." in value or value == ".":
        return (f"{show(value)} contains '..': names become file and URL paths, so they may "
                f"not point elsewhere ({NAME_RULE})")
    if "/" in value or "\\" in value:
        if field == "name":
            return (f"{show(value)} contains a slash: a name is a single path segment; put the "
                    f"namespace in metadata.namespace ({NAME_RULE})")
        return f"{show(value)} contains a slash: namespaces cannot be nested ({NAME_RULE})"
    if len(value) > 63:
        return f"{show(value)} is {len(value)} characters long; the limit is 63"
    if value != value.lower() and NAME_PATTERN.fullmatch(value.lower()):
        return f"{show(value)} must be lower case: {show(value.lower())}"
    return f"{show(value)} is not a valid {field}: use {NAME_RULE}"


BACKSTAGE_NAME = re.compile(r"[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*")
BACKSTAGE_NAME_RULE = ("letters, digits and single '-', '_' or '.' between them, at most 63 "
                       "characters (Backstage's rule)")


def backstage_name_error(value: str) -> str | None:
    """Why `value` is not a valid Backstage entity name, or None when it is."""
    if BACKSTAGE_NAME.fullmatch(value) and len(value) <= 63:
        return None
    if not value:
        return "must not be empty"
    if len(value) > 63:
        return f"{show(value)} is {len(value)} characters long; the limit is 63"
    return f"{show(value)} is not a valid name: use {BACKSTAGE_NAME_RULE}"


def name_findings(entity: Entity) -> list[Finding]:
    """Problems with metadata.name and metadata.namespace (type errors are the schema's)."""
    metadata = entity.data.get("metadata")
    if not isinstance(metadata, dict):
        return []
    findings = []
    if is_backstage(entity):
        name, namespace = metadata.get("name"), metadata.get("namespace")
        error = backstage_name_error(name) if isinstance(name, str) else None
        if error:
            findings.append(Finding(entity, ("metadata", "name"), f"metadata.name: {error}",
                                    "name"))
        error = name_error(namespace, "namespace") if isinstance(namespace, str) else None
        if error:
            findings.append(Finding(entity, ("metadata", "namespace"),
                                    f"metadata.namespace: {error}", "name"))
        return findings
    for field in ("name", "namespace"):
        value = metadata.get(field)
        if isinstance(value, str):
            error = name_error(value, field)
            if error:
                findings.append(Finding(entity, ("metadata", field), f"metadata.{field}: {error}",
                                        "name"))
    return findings
