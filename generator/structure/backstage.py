"""Backstage's descriptor format (`apiVersion: backstage.io/v1alpha1`), read as it is written.

Which documents are Backstage's, which of its spec fields are entity references, the kind
each field defaults to, and the pair of relation names Backstage derives from each field
(its BuiltinKindsEntityProcessor): the forward one from the entity that writes the field,
the inverse one from the entity it names. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .entity import Entity

API_VERSION_PREFIX = "backstage.io/"
UNSUPPORTED_KINDS = {
    "Template": "software templates are run by Backstage's scaffolder; Gantry has Actions",
}
"""Backstage kinds Gantry knowingly leaves out, with the reason given in the warning."""


def is_backstage(entity: Entity) -> bool:
    """Whether the document is written in Backstage's format: its apiVersion is
    `backstage.io/...` or one of Backstage's own groups (`scaffolder.backstage.io/...`)."""
    version = entity.data.get("apiVersion")
    return isinstance(version, str) and (version.startswith(API_VERSION_PREFIX)
                                         or f".{API_VERSION_PREFIX}" in version)


@dataclass(frozen=True, slots=True)
class RefField:
    """A spec field holding entity references, as Backstage reads it."""

    field: str
    forward: str
    inverse: str
    default_kind: str | None
    many: bool

    @property
    def declared(self) -> str:
        """The declared reference type: `forward|inverse`."""
        return f"{self.forward}{INVERSE_SEPARATOR}{self.inverse}"


_OWNER = RefField("owner", "ownedBy", "ownerOf", "Group", False)
_SYSTEM = RefField("system", "partOf", "hasPart", "System", False)
_DEPENDS_ON = RefField("dependsOn", "dependsOn", "dependencyOf", None, True)
_DEPENDENCY_OF = RefField("dependencyOf", "dependencyOf", "dependsOn", None, True)

REF_FIELDS: dict[str, tuple[RefField, ...]] = {
    "Component": (
        _OWNER, _SYSTEM,
        RefField("subcomponentOf", "partOf", "hasPart", "Component", False),
        RefField("providesApis", "providesApi", "apiProvidedBy", "API", True),
        RefField("consumesApis", "consumesApi", "apiConsumedBy", "API", True),
        _DEPENDS_ON, _DEPENDENCY_OF,
    ),
    "API": (_OWNER, _SYSTEM),
    "Resource": (_OWNER, _SYSTEM, _DEPENDS_ON, _DEPENDENCY_OF),
    "System": (_OWNER, RefField("domain", "partOf", "hasPart", "Domain", False)),
    "Domain": (_OWNER, RefField("subdomainOf", "partOf", "hasPart", "Domain", False)),
    "Group": (
        RefField("parent", "childOf", "parentOf", "Group", False),
        RefField("children", "parentOf", "childOf", "Group", True),
        RefField("members", "hasMember", "memberOf", "User", True),
    ),
    "User": (RefField("memberOf", "memberOf", "hasMember", "Group", True),),
    "Environment": (_OWNER,),
}
"""Per Backstage kind, the spec fields that are references (Backstage's own table)."""

INVERSE_SEPARATOR = "|"
"""A declared reference's type `forward|inverse` asks for the edge in both directions."""
INVERSE_TYPES = frozenset(f.inverse for fields in REF_FIELDS.values() for f in fields)
"""Edge types an entity may get from a reference written by the entity the edge points at."""


def split_ref(text: str) -> tuple[str | None, str | None, str]:
    """`[kind:][namespace/]name` → (kind or None, namespace or None, name), as Backstage
    splits it: at the first ':' and then at the first '/'."""
    kind, colon, rest = text.partition(":")
    if not colon:
        kind, rest = "", text
    namespace, slash, name = rest.partition("/")
    if not slash:
        namespace, name = "", rest
    return kind or None, namespace or None, name
