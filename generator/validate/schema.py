"""Checking each document against the envelope and its kind's JSON Schema."""

from __future__ import annotations

import difflib

from ..structure.backstage import UNSUPPORTED_KINDS, is_backstage
from ..structure.entity import Entity
from ..structure.kinds import SchemaRegistry
from .finding import Finding, show
from .messages import describe

NAME_FIELDS = {("metadata", "name"), ("metadata", "namespace")}
"""Paths whose pattern errors the name check explains better (see names.py)."""
_NAME_KEYWORDS = {"pattern", "maxLength", "minLength"}


def unknown_kind_message(kind: str, registry: SchemaRegistry) -> str:
    """Why a kind is refused, with the known ones listed (and a near miss suggested)."""
    known = registry.kinds()
    close = difflib.get_close_matches(kind, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (f"unknown kind {show(kind)}{hint}; known kinds: {', '.join(known)} "
            "(a schema file in schemas/ adds a kind)")


def schema_findings(entity: Entity, registry: SchemaRegistry) -> list[Finding]:
    """Every schema problem of one document; nothing at all when the fast check passes."""
    data = entity.data
    kind = data.get("kind")
    entry = registry.for_document(data)
    findings: list[Finding] = []
    if entry is None and is_backstage(entity) and kind in UNSUPPORTED_KINDS:
        message = (f"kind: Backstage kind {show(kind)} is not read by Gantry "
                   f"({UNSUPPORTED_KINDS[kind]}); the document is skipped")
        return [Finding(entity, ("kind",), message, "unsupported-kind", severity="warning")]
    if entry is None:
        validator = registry.envelope_validator()
        if isinstance(kind, str) and kind:
            message = f"kind: {unknown_kind_message(kind, registry)}"
            findings.append(Finding(entity, ("kind",), message, "unknown-kind"))
    else:
        if registry.is_valid(entry)(data):
            return findings
        validator = entry.validator
    if validator is None:
        return findings
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        if path in NAME_FIELDS and error.validator in _NAME_KEYWORDS:
            continue
        if entry is None and path == ("kind",) and error.validator == "pattern":
            continue
        rule = "envelope" if path and path[0] in ("apiVersion", "kind") else "schema"
        for where, key, message in describe(error):
            findings.append(Finding(entity, where, message, rule, key))
    return findings
