"""References as rows: what each entity declares (`declared_refs`) and what resolves
(`relations`).

Keeping the declared references, resolved or not, lets an incremental update find every
entity whose edges may change when an entity appears, disappears or is renamed, without
re-reading any file. Rows are tuples in the tables' column order.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from ..structure.entity import Entity, parse_ref
from ..structure.relations import Reference, edge_types, references_of, resolve

Declared = tuple[str, str, str, str | None, str]
"""A `declared_refs` row: (source, type, kind as written, namespace or None, name)."""
Edge = tuple[str, str, str]
"""A `relations` row: (source, type, target)."""


def declared_rows(entity: Entity) -> list[Declared]:
    """One `declared_refs` row per reference the entity writes."""
    source = entity.ref
    return [(source, r.type, r.kind, r.namespace, r.name) for r in references_of(entity)]


def candidates(row: Declared) -> list[str]:
    """Every ref a declared reference could resolve to, in the order resolution tries them."""
    asked: list[str] = []
    resolve(_reference(row), parse_ref(row[0])[1], _Recorder(asked))
    return asked


def resolve_rows(rows: Iterable[Declared], known: Container[str]) -> list[Edge]:
    """The `relations` rows of the declared references that resolve; duplicates dropped."""
    edges: list[Edge] = []
    seen: set[Edge] = set()
    for row in rows:
        target = resolve(_reference(row), parse_ref(row[0])[1], known)
        if target is None:
            continue
        forward, inverse = edge_types(row[1])
        for edge in ((row[0], forward, target),
                     *(((target, inverse, row[0]),) if inverse else ())):
            if edge not in seen:
                seen.add(edge)
                edges.append(edge)
    return edges


def _reference(row: Declared) -> Reference:
    return Reference(row[1], row[2], row[4], row[3], ())


class _Recorder:
    """A container holding nothing that remembers every ref it was asked about."""

    def __init__(self, asked: list[str]):
        self.asked = asked

    def __contains__(self, ref: object) -> bool:
        self.asked.append(str(ref))
        return False
