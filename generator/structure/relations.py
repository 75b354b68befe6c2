"""The typed edges an entity declares, and how a written reference finds its target.

Edge types (DESIGN.md): dependsOn, deployedIn, providesApi, consumesApi, ownedBy, documents.
For Gantry's own format only forward edges are produced; reverse walks are queries over the
same edges. Backstage documents get Backstage's relations in both directions (ownedBy and
ownerOf, partOf and hasPart, ...), as Backstage stores them: their declared type is
`forward|inverse` (see backstage.py).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from .backstage import INVERSE_SEPARATOR, REF_FIELDS, is_backstage, split_ref
from .entity import DEFAULT_NAMESPACE, Entity, make_ref

_OWNER_KINDS = {"team": "group", "group": "team"}
"""An owner written without the other format's kind may be a Team or a Group: a Gantry
Service owned by a Backstage Group, a Backstage Component owned by a Gantry Team."""


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


def _backstage_refs(entity: Entity) -> list[Reference]:
    """A Backstage document's references: strings `[kind:][namespace/]name`, the kind
    defaulted by field and the namespace by the entity's own, as Backstage does. A field
    with no default kind (`dependsOn`) and no kind written gives a Reference with kind ''."""
    refs: list[Reference] = []
    spec = entity.spec
    own_namespace = entity.namespace
    for ref_field in REF_FIELDS.get(entity.kind, ()):
        value = spec.get(ref_field.field)
        if value is None:
            continue
        items = value if ref_field.many and isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                continue
            kind, namespace, name = split_ref(item)
            path = ("spec", ref_field.field, i) if ref_field.many else ("spec", ref_field.field)
            refs.append(Reference(ref_field.declared, kind or ref_field.default_kind or "",
                                  name, namespace or own_namespace, path))
    return refs


def edge_types(declared: str) -> tuple[str, str | None]:
    """A declared type's forward edge type, and its inverse when both are stored."""
    forward, _, inverse = declared.partition(INVERSE_SEPARATOR)
    return forward, inverse or None


def references_of(entity: Entity) -> list[Reference]:
    """Every reference the entity makes, with the document path it was written at."""
    if is_backstage(entity):
        return _backstage_refs(entity)
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
    kinds = [reference.kind]
    if edge_types(reference.type)[0] == "ownedBy" and reference.kind.lower() in _OWNER_KINDS:
        kinds.append(_OWNER_KINDS[reference.kind.lower()])
    for kind in kinds:
        for namespace in candidates:
            ref = make_ref(kind, namespace, reference.name)
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
            forward, inverse = edge_types(reference.type)
            edges.append((source, forward, target))
            if inverse:
                edges.append((target, inverse, source))
    return edges
