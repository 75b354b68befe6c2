"""The typed edges an entity declares, and how a written reference finds its target.

Edge types (DESIGN.md): dependsOn, deployedIn, providesApi, consumesApi, ownedBy, documents.
Only forward edges are produced; reverse walks are queries over the same edges.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from .entity import DEFAULT_NAMESPACE, Entity, make_ref


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference as written in a document, before it is resolved to an entity."""

    type: str
    kind: str
    name: str
    namespace: str | None
    path: tuple


def _split_name(value: str) -> tuple[str | None, str]:
    namespace, sep, name = value.rpartition("/")
    return (namespace, name) if sep else (None, value)


def _object_refs(items: object, edge: str, field: str, default_kind: str | None) -> list[Reference]:
    refs: list[Reference] = []
    if not isinstance(items, list):
        return refs
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        kind = item.get("kind", default_kind)
        name = item.get("name")
        namespace = item.get("namespace")
        if isinstance(kind, str) and isinstance(name, str) and name:
            refs.append(Reference(edge, kind, name, namespace if isinstance(namespace, str)
                                  else None, ("spec", field, i)))
    return refs


def _name_refs(items: object, edge: str, field: str, kind: str) -> list[Reference]:
    refs: list[Reference] = []
    if not isinstance(items, list):
        return refs
    for i, item in enumerate(items):
        if isinstance(item, str) and item:
            namespace, name = _split_name(item)
            refs.append(Reference(edge, kind, name, namespace, ("spec", field, i)))
    return refs


def references_of(entity: Entity) -> list[Reference]:
    """Every reference the entity makes, with the document path it was written at."""
    refs: list[Reference] = []
    owner = entity.metadata.get("owner")
    if isinstance(owner, str) and owner:
        namespace, name = _split_name(owner)
        refs.append(Reference("ownedBy", "Team", name, namespace, ("metadata", "owner")))
    spec = entity.spec
    refs += _object_refs(spec.get("dependsOn"), "dependsOn", "dependsOn", None)
    refs += _object_refs(spec.get("deployedIn"), "deployedIn", "deployedIn", "Environment")
    refs += _name_refs(spec.get("providesApis"), "providesApi", "providesApis", "API")
    refs += _name_refs(spec.get("consumesApis"), "consumesApi", "consumesApis", "API")
    refs += _object_refs(spec.get("relatedTo"), "documents", "relatedTo", None)
    return refs


def resolve(reference: Reference, source_namespace: str, known: Container[str]) -> str | None:
    """The ref of the target: an explicit namespace, else the source's own, else `default`."""
    if reference.namespace:
        candidates = [reference.namespace]
    else:
        candidates = [source_namespace, DEFAULT_NAMESPACE]
    for namespace in candidates:
        ref = make_ref(reference.kind, namespace, reference.name)
        if ref in known:
            return ref
    return None


def relations_of(entity: Entity, known: Container[str]) -> list[tuple[str, str, str]]:
    """Resolved forward edges `(source, type, target)`; unresolved references are skipped."""
    source = entity.ref
    edges = []
    for reference in references_of(entity):
        target = resolve(reference, entity.namespace, known)
        if target is not None:
            edges.append((source, reference.type, target))
    return edges
