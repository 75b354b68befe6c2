"""Self-contained schemas: every `$ref` that leaves a document is bundled in under `$defs`.

The kind files in `schemas/` refer to `envelope.json` by their `https://gantry.io/schemas/…`
identifiers, which no client can fetch. `bundle()` resolves those references with the same
`referencing` registry the validator uses, copies each referenced document into the root's
`$defs` (without its `$id`, so it stays part of the root resource) and rewrites every `$ref`
as a local JSON pointer (`#/$defs/envelope/$defs/lifecycle`). The result validates a
document with any Draft 2020-12 validator and no network or registry, and editors
(yaml-language-server, VS Code) can follow every reference inside the one file.

`published_schemas()` is the set served at `/api/v1/schemas` and written to the static
site's `schemas/` folder, so both answer exactly the same files.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urljoin

if TYPE_CHECKING:  # the site build imports the file names without loading referencing
    from referencing import Registry

    from .kinds import SchemaRegistry

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
CATALOG_FILE = "catalog.json"
"""The published schema that accepts a document of any known kind."""
GANTRY_YAML_FILE = "gantry-yaml.json"
"""The schema of the repository's `gantry.yaml`, a file in `schemas/` that declares no kind."""
RESERVED_FILES = frozenset({CATALOG_FILE, GANTRY_YAML_FILE})

# Keywords whose value is data (never walked for `$ref`) and those whose value maps names
# to subschemas (property names such as "$ref" are names there, not keywords).
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                          "dependentSchemas"})
_UNBUNDLABLE = frozenset({"$dynamicRef", "$recursiveRef"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class BundleError(ValueError):
    """A schema cannot be made self-contained (a reference that does not resolve, …)."""


def bundle(schema: Mapping[str, Any], registry: Registry, base_uri: str | None = None
           ) -> dict[str, Any]:
    """`schema` with every referenced document embedded under `$defs` and every `$ref` local.

    `base_uri` is where `schema` lives (default: its `$id`); relative references resolve
    against it and are looked up in `registry`. Raises BundleError when a reference cannot
    be resolved or uses dynamic references, which have no local equivalent.
    """
    base = base_uri or schema.get("$id")
    if not isinstance(base, str) or not base:
        raise BundleError("the schema has no $id and no base URI was given")
    return _Bundler(registry).run(dict(schema), urldefrag(base).url)


class _Bundler:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.names: dict[str, str] = {}
        """Absolute URI of each document → its key under the root's `$defs` ("" for the root)."""
        self.anchors: dict[str, dict[str, str]] = {}
        """Absolute URI → {anchor name: JSON pointer inside that document}."""
        self.defs: dict[str, Any] = {}
        self.taken: set[str] = set()

    def run(self, root: dict[str, Any], root_uri: str) -> dict[str, Any]:
        from referencing import Resource
        from referencing.jsonschema import DRAFT202012

        resource = Resource.from_contents(root, default_specification=DRAFT202012)
        self.registry = self.registry.with_resource(root_uri, resource)
        self.names[root_uri] = ""
        self.anchors[root_uri] = _anchors(root, root_uri, "")
        own_defs = root.get("$defs")
        self.taken = set(own_defs) if isinstance(own_defs, dict) else set()
        result = self._schema(root, root_uri, embedded=False)
        if self.defs:
            result["$defs"] = {**(result.get("$defs") or {}), **self.defs}
        return result

    def _embed(self, uri: str) -> str:
        """The `$defs` key of the document at `uri`, embedding it on first use."""
        from referencing.exceptions import NoSuchResource, Unretrievable

        if uri in self.names:
            return self.names[uri]
        try:
            contents = self.registry.contents(uri)
        except (NoSuchResource, Unretrievable, LookupError):
            raise BundleError(f"cannot resolve the schema {uri}") from None
        if not isinstance(contents, dict):
            raise BundleError(f"{uri} is not a schema object")
        dialect = contents.get("$schema", DRAFT_2020_12)
        if not isinstance(dialect, str) or dialect.rstrip("#") != DRAFT_2020_12:
            raise BundleError(f"{uri} is written for {dialect}, not Draft 2020-12")
        stem = uri.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json") or "schema"
        name = _SAFE_NAME.sub("-", stem)
        suffix = 2
        while name in self.taken:
            name = f"{_SAFE_NAME.sub('-', stem)}-{suffix}"
            suffix += 1
        self.taken.add(name)
        self.names[uri] = name
        self.anchors[uri] = _anchors(contents, uri, "")
        self.defs[name] = None  # keeps the key order of first use, filled below
        self.defs[name] = self._schema(contents, uri, embedded=True)
        return name

    def _local(self, base: str, ref: str) -> str:
        """The local pointer that means what `ref` means at `base`."""
        from referencing.exceptions import NoSuchAnchor, PointerToNowhere, Unresolvable

        try:
            self.registry.resolver(base).lookup(ref)
        except PointerToNowhere:
            raise BundleError(f"$ref {ref!r} points to nothing in that schema") from None
        except NoSuchAnchor:
            raise BundleError(f"$ref {ref!r} names an anchor that schema lacks") from None
        except Unresolvable:
            raise BundleError(f"$ref {ref!r} names no known schema file") from None
        uri, fragment = urldefrag(urljoin(base, ref))
        name = self._embed(uri)
        prefix = "#" if name == "" else f"#/$defs/{name}"
        if not fragment:
            return prefix
        if fragment.startswith("/"):
            return prefix + fragment
        pointer = self.anchors[uri].get(unquote(fragment))
        if pointer is None:
            raise BundleError(f"no anchor {fragment!r} in {uri}")
        return prefix + pointer

    def _schema(self, node: Any, base: str, *, embedded: bool, top: bool = True) -> Any:
        if isinstance(node, list):
            return [self._schema(item, base, embedded=embedded, top=False) for item in node]
        if not isinstance(node, dict):
            return node
        if _UNBUNDLABLE.intersection(node):
            raise BundleError(f"{base}: dynamic references cannot be bundled")
        if not top and isinstance(node.get("$id"), str):
            raise BundleError(f"{base}: a schema nested with its own $id cannot be bundled")
        out: dict[str, Any] = {}
        for key, value in node.items():
            if embedded and key in ("$id", "$schema", "$anchor"):
                continue  # the copy becomes part of the root resource
            if key == "$ref" and isinstance(value, str):
                out[key] = self._local(base, value)
            elif key in _DATA_KEYWORDS or key.startswith("x-"):
                out[key] = copy.deepcopy(value)
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self._schema(sub, base, embedded=embedded, top=False)
                            for name, sub in value.items()}
            else:
                out[key] = self._schema(value, base, embedded=embedded, top=False)
        return out


def _anchors(node: Any, uri: str, pointer: str) -> dict[str, str]:
    """Every `$anchor` in a document, with the JSON pointer of the schema that declares it."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        if isinstance(node.get("$anchor"), str):
            found[node["$anchor"]] = pointer
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            found.update(_anchors(value, uri, f"{pointer}/{_escape(key)}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.update(_anchors(value, uri, f"{pointer}/{index}"))
    return found


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def kind_file(kind: str) -> str:
    """The published file name of a kind's schema: `service.json` for Service.

    A kind whose name would take a reserved file (a kind called Catalog) is published as
    `kind-<name>.json` instead, so the any-kind schema keeps its address.
    """
    name = f"{kind.lower()}.json"
    return f"kind-{name}" if name in RESERVED_FILES else name


def published_schemas(registry: SchemaRegistry) -> dict[str, dict[str, Any]]:
    """File name → self-contained schema: one per kind (Backstage's kinds also as
    `backstage-<kind>.json`), `catalog.json` for any kind, and
    `gantry-yaml.json` when the schemas folder has it."""
    files = {kind_file(kind): registry.bundled(kind) for kind in registry.kinds()}
    for entry in registry.entries():  # another format's kinds, under their own file names
        if entry.api_versions:
            files[entry.path.name] = registry.bundled_entry(entry)
    files[CATALOG_FILE] = registry.bundled_catalog()
    settings = registry.bundled_document(GANTRY_YAML_FILE)
    if settings is not None:
        files[GANTRY_YAML_FILE] = settings
    return files
