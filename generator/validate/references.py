"""Cross-entity checks: one definition per entity, and every reference finds its target."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from ..load import locate_many
from ..structure.entity import DEFAULT_NAMESPACE, Entity, parse_ref
from ..structure.kinds import SchemaRegistry
from ..structure.relations import Reference, references_of, resolve
from .finding import Finding, display_path, dotted
from .schema import unknown_kind_message


def known_refs(entities: Iterable[Entity]) -> set[str]:
    """The refs of every entity that has a kind and a name."""
    return {entity.ref for entity in entities if entity.kind and entity.name}


def duplicate_findings(entities: list[Entity], root: Path | None, display_root: str | None
                       ) -> list[Finding]:
    """Each definition of an entity defined more than once, naming the other places."""
    places: dict[str, list[Entity]] = {}
    for entity in entities:
        if entity.kind and entity.name:
            places.setdefault(entity.ref, []).append(entity)
    findings = []
    for ref, group in places.items():
        if len(group) < 2:
            continue
        where = []
        for entity in group:
            (line, _column), = locate_many(root, entity, [(("metadata", "name"), False)])
            where.append(f"{display_path(root, display_root, entity.path)}:{line}")
        _kind, namespace, name = parse_ref(ref)
        label = f"{group[0].kind} '{namespace}/{name}'"
        for index, entity in enumerate(group):
            others = ", ".join(place for i, place in enumerate(where) if i != index)
            findings.append(Finding(entity, ("metadata", "name"),
                                    f"duplicate {label}: also defined at {others}", "duplicate"))
    return findings


class ReferenceChecker:
    """Resolves an entity's references against the refs of the whole catalog."""

    def __init__(self, known: Collection[str], registry: SchemaRegistry):
        self.known = known
        self.registry = registry
        self._elsewhere: dict[tuple[str, str], list[str]] | None = None

    def findings(self, entity: Entity) -> list[Finding]:
        found = []
        namespace = entity.namespace
        for reference in references_of(entity):
            if reference.kind and resolve(reference, namespace, self.known) is not None:
                continue  # the common case, answered before any message is considered
            kind = self.registry.canonical(reference.kind)
            if not reference.kind:
                path = reference.path
                message = (f"'{reference.name}' needs a kind: write e.g. "
                           f"'component:{reference.name}' or 'resource:{reference.name}' "
                           "(Backstage gives this field no default kind)")
            elif kind is None:
                path = reference.path + ("kind",)
                message = unknown_kind_message(reference.kind, self.registry)
            else:
                path = reference.path
                message = self._check(kind, reference, namespace)
            if message:
                found.append(Finding(entity, path, f"{dotted(path)}: {message}", "reference"))
        return found

    def _check(self, kind: str, reference: Reference, namespace: str) -> str | None:
        if resolve(reference, namespace, self.known) is not None:
            return None
        if reference.namespace:
            where = f"'{reference.namespace}/{reference.name}' does not exist"
        elif namespace == DEFAULT_NAMESPACE:
            where = f"'{reference.name}' does not exist in namespace 'default'"
        else:
            where = (f"'{reference.name}' does not exist in namespace '{namespace}' or "
                     "'default'")
        return f"{kind} {where}{self._hint(kind, reference.name)}"

    def _hint(self, kind: str, name: str) -> str:
        namespaces = self._namespaces(kind, name)
        if not namespaces:
            return ""
        listed = ", ".join(f"'{ns}/{name}'" for ns in sorted(namespaces)[:3])
        return f" (found elsewhere: write {listed})"

    def _namespaces(self, kind: str, name: str) -> list[str]:
        """Namespaces holding an entity of this kind and name; indexed on first use only,
        since most catalogs have no broken reference at all."""
        if self._elsewhere is None:
            self._elsewhere = {}
            for ref in self.known:
                ref_kind, ref_namespace, ref_name = parse_ref(ref)
                self._elsewhere.setdefault((ref_kind, ref_name), []).append(ref_namespace)
        return self._elsewhere.get((kind.lower(), name), [])
