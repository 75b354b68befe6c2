"""The entity as loaded from YAML, and its reference string."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_NAMESPACE = "default"
API_VERSION = "gantry.io/v1"


def make_ref(kind: str, namespace: str, name: str) -> str:
    """The stable identifier of an entity: `kind:namespace/name` with a lower-case kind."""
    return f"{kind.lower()}:{namespace}/{name}"


def parse_ref(ref: str) -> tuple[str, str, str]:
    """Split `kind:namespace/name` into its parts (kind in lower case)."""
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return kind, namespace, name


@dataclass(slots=True)
class Entity:
    """One YAML document of the catalog.

    `data` is plain JSON-compatible Python. `path` is relative to the catalog root (posix);
    `line`/`end_line` are the 1-based first and last lines of the document in that file.
    """

    data: dict[str, Any]
    path: str
    doc_index: int = 0
    line: int = 1
    end_line: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.data.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def name(self) -> str:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else ""

    @property
    def namespace(self) -> str:
        namespace = self.metadata.get("namespace")
        return namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE

    @property
    def ref(self) -> str:
        return make_ref(self.kind, self.namespace, self.name)
