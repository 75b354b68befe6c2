"""The kinds Gantry knows: one JSON Schema (Draft 2020-12) per kind, read from `schemas/*.json`.

A kind is whatever a schema file declares with `x-gantry-kind` (or, failing that, with
`properties.kind.const`), so dropping a new file into a schemas folder adds a kind with no code
change. Files that declare no kind (such as `envelope.json`, or `gantry-yaml.json`, the schema of
the repository's settings file) are still registered, so kind schemas can `$ref` them by file
name. Extra folders (an adopting team's own `schemas/`) are read after the built-in one; a kind
they declare again replaces the built-in definition. Every kind's schema is also kept
self-contained (`bundled()`), for clients that validate without the other files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as InvalidSchema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ..resources import schemas_dir
from .bundle import DRAFT_2020_12, BundleError, bundle

SCHEMA_BASE = "https://gantry.io/schemas/"
_DRAFT7 = "http://json-schema.org/draft-07/schema#"
_NEWER_KEYWORDS = frozenset({
    "prefixItems", "unevaluatedProperties", "unevaluatedItems", "dependentRequired",
    "dependentSchemas", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
    "minContains", "maxContains", "$anchor", "$id",
})
_ANNOTATIONS = frozenset({"$ref", "description", "title", "default", "$comment", "examples"})


class SchemaError(Exception):
    """A schema file cannot be read or is not a valid JSON Schema."""


@dataclass(frozen=True, slots=True)
class KindSchema:
    """One kind's schema, where it came from, and its validator."""

    kind: str
    path: Path
    schema: dict[str, Any]
    validator: Draft202012Validator
    api_versions: tuple[str, ...] = ()
    """The apiVersions this schema is chosen for (`x-gantry-api-versions`); empty for a
    schema of Gantry's own format, chosen for any other apiVersion."""

    @property
    def key(self) -> str:
        """What tells this schema apart from another one for the same kind name."""
        return f"{self.kind.lower()}@{self.api_versions[0]}" if self.api_versions \
            else self.kind.lower()


def _kind_of(schema: dict[str, Any]) -> str | None:
    declared = schema.get("x-gantry-kind")
    if isinstance(declared, str) and declared:
        return declared
    kind = schema.get("properties", {}).get("kind", {})
    if isinstance(kind, dict) and isinstance(kind.get("const"), str):
        return kind["const"]
    return None


def _api_versions(schema: dict[str, Any]) -> tuple[str, ...]:
    declared = schema.get("x-gantry-api-versions")
    if isinstance(declared, list):
        return tuple(value for value in declared if isinstance(value, str))
    return ()


class SchemaRegistry:
    """Every known kind's schema, looked up case-insensitively by kind name."""

    def __init__(self, extra_dirs: Iterable[Path | str] = (), builtin_dir: Path | None = None):
        folders = [Path(builtin_dir) if builtin_dir else schemas_dir()]
        folders += [Path(folder) for folder in extra_dirs]
        documents: list[tuple[Path, str, dict[str, Any]]] = []
        for folder in folders:
            if not folder.is_dir():
                raise SchemaError(f"schemas folder not found: {folder}")
            for path in sorted(folder.glob("*.json")):
                schema = _read(path)
                uri = schema.get("$id") if isinstance(schema.get("$id"), str) else None
                documents.append((path, uri or SCHEMA_BASE + path.name, schema))
        # Each schema is reachable by its $id and by its file name under SCHEMA_BASE, so that
        # `{"$ref": "envelope.json"}` works from any folder.
        self._documents: dict[str, dict[str, Any]] = {}
        for path, uri, schema in documents:
            self._documents[uri] = schema
            self._documents.setdefault(SCHEMA_BASE + path.name, schema)
        resources = [(uri, Resource.from_contents(schema, default_specification=DRAFT202012))
                     for uri, schema in self._documents.items()]
        self.registry: Registry = Registry().with_resources(resources)
        self._kinds: dict[str, KindSchema] = {}
        self._versioned: dict[tuple[str, str], KindSchema] = {}
        self._versioned_kinds: dict[str, KindSchema] = {}
        for path, uri, schema in documents:
            kind = _kind_of(schema)
            if kind is None:
                continue
            anchored = schema if "$id" in schema else {**schema, "$id": uri}
            try:
                Draft202012Validator.check_schema(anchored)
            except InvalidSchema as exc:
                raise SchemaError(f"{path}: not a valid JSON Schema: {exc.message}") from exc
            validator = Draft202012Validator(anchored, registry=self.registry)
            entry = KindSchema(kind, path, anchored, validator, _api_versions(schema))
            if entry.api_versions:
                # Another format's kind (Backstage's): chosen by apiVersion, and by kind name
                # alone only when Gantry's own format has no kind of that name.
                for version in entry.api_versions:
                    self._versioned[(kind.lower(), version)] = entry
                self._versioned_kinds.setdefault(kind.lower(), entry)
            else:
                self._kinds[kind.lower()] = entry
        for key, entry in self._versioned_kinds.items():
            self._kinds.setdefault(key, entry)
        self._fast: dict[str, Callable[[Any], bool]] = {}
        self._bundled: dict[str, dict[str, Any]] = {}
        for entry in self.entries():
            try:
                self._bundled[entry.key] = bundle(entry.schema, self.registry)
            except BundleError as exc:
                raise SchemaError(f"{entry.path}: {exc}") from exc

    def bundled(self, kind: str) -> dict[str, Any]:
        """The kind's schema made self-contained: every `$ref` points inside it, so a client
        validates with it alone, offline. Raises KeyError for an unknown kind."""
        entry = self.get(kind)
        if entry is None:
            raise KeyError(kind)
        return self._bundled[entry.key]

    def bundled_entry(self, entry: KindSchema) -> dict[str, Any]:
        """`bundled()` for one schema among several of the same kind name (Backstage's API)."""
        return self._bundled[entry.key]

    def entries(self) -> list[KindSchema]:
        """Every kind schema once, Gantry's own and other formats' alike."""
        unique = {entry.key: entry for entry in (*self._kinds.values(),
                                                 *self._versioned.values())}
        return [unique[key] for key in sorted(unique)]

    def for_document(self, data: dict[str, Any]) -> KindSchema | None:
        """The schema for a document: chosen by its kind and apiVersion together, so that
        Backstage's `API` and Gantry's `API` each get their own."""
        kind, version = data.get("kind"), data.get("apiVersion")
        if not isinstance(kind, str):
            return None
        if isinstance(version, str):
            entry = self._versioned.get((kind.lower(), version))
            if entry is not None:
                return entry
        return self.get(kind)

    def bundled_catalog(self) -> dict[str, Any]:
        """One self-contained schema for a document of any known kind (`catalog.json`): the
        `kind` picks the kind's schema, so one editor setting covers every catalog file."""
        branches = [{"if": self._selects(entry), "then": {"$ref": entry.schema["$id"]}}
                    for entry in self.entries()]
        root_id = SCHEMA_BASE + "catalog.json"
        if root_id in self._documents:  # a schema file has that name: keep the two apart
            root_id = "urn:gantry:schemas:catalog.json"
        root = {
            "$schema": DRAFT_2020_12,
            "$id": root_id,
            "title": "Any Gantry entity",
            "description": "A catalog document of any known kind; `kind` selects its schema.",
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": self.kinds()}},
            "allOf": branches,
        }
        return bundle(root, self.registry)

    def _selects(self, entry: KindSchema) -> dict[str, Any]:
        """The condition under which a document takes `entry`'s schema (kind and apiVersion)."""
        condition: dict[str, Any] = {"properties": {"kind": {"const": entry.kind}},
                                     "required": ["kind"]}
        if entry.api_versions:
            condition["properties"]["apiVersion"] = {"enum": list(entry.api_versions)}
            condition["required"] = ["kind", "apiVersion"]
            return condition
        others = [version for (kind, version) in self._versioned if kind == entry.kind.lower()]
        if others:
            condition["properties"]["apiVersion"] = {"not": {"enum": sorted(others)}}
        return condition

    def bundled_document(self, filename: str) -> dict[str, Any] | None:
        """A schema file that declares no kind (`gantry-yaml.json`), made self-contained;
        None when no schemas folder has it."""
        uri = SCHEMA_BASE + filename
        schema = self._documents.get(uri)
        if schema is None:
            return None
        try:
            return bundle(schema, self.registry, uri)
        except BundleError as exc:
            raise SchemaError(f"{filename}: {exc}") from exc

    def envelope_validator(self) -> Draft202012Validator | None:
        """A validator for what every document shares, used when the kind is unknown."""
        envelope = self._documents.get(SCHEMA_BASE + "envelope.json")
        if envelope is None:
            return None
        return Draft202012Validator(envelope, registry=self.registry)

    def combined(self) -> dict[str, Any]:
        """One self-contained schema for a document of any known kind, for tools that take a
        single schema file (check-jsonschema); the same as `bundled_catalog()`."""
        return self.bundled_catalog()

    def kinds(self) -> list[str]:
        """The known kind names, as their schemas spell them, sorted."""
        return sorted(entry.kind for entry in self._kinds.values())

    def get(self, kind: str) -> KindSchema | None:
        """The kind's entry, or None when no schema declares it."""
        return self._kinds.get(kind.lower()) if isinstance(kind, str) else None

    def canonical(self, kind: str) -> str | None:
        """The kind's name as its schema spells it (`api` → `API`), or None when unknown."""
        entry = self.get(kind)
        return entry.kind if entry else None

    def schema(self, kind: str) -> dict[str, Any]:
        """The kind's whole-document schema. Raises KeyError for an unknown kind."""
        entry = self.get(kind)
        if entry is None:
            raise KeyError(kind)
        return entry.schema

    def validator(self, kind: str) -> Draft202012Validator:
        """A validator for a whole document of this kind. Raises KeyError for an unknown kind."""
        entry = self.get(kind)
        if entry is None:
            raise KeyError(kind)
        return entry.validator

    def is_valid(self, kind: str | KindSchema) -> Callable[[Any], bool]:
        """A fast yes/no check for a whole document of this kind (no error details)."""
        entry = kind if isinstance(kind, KindSchema) else self.get(kind)
        if entry is None:
            raise KeyError(kind)
        check = self._fast.get(entry.key)
        if check is None:
            check = self._compile(entry) or entry.validator.is_valid
            self._fast[entry.key] = check
        return check

    def _compile(self, entry: KindSchema) -> Callable[[Any], bool] | None:
        """A compiled check when the schema means the same under draft 7 (fastjsonschema's
        newest draft); None when it uses 2020-12-only features, so the caller falls back.

        A compiled check only ever short-cuts a document to "valid"; documents it rejects are
        validated again in full, so a stricter compiled check costs time, never correctness.
        """
        documents = {uri: _as_draft7(schema) for uri, schema in self._documents.items()}
        root = _as_draft7(entry.schema)
        if root is None or any(schema is None for schema in documents.values()):
            return None
        try:
            compiled = fastjsonschema.compile(
                root, handlers={"https": lambda uri: documents[uri.split("#")[0]],
                                "http": lambda uri: documents[uri.split("#")[0]]})
        except Exception:  # noqa: BLE001 - any compile failure means "use the full validator"
            return None

        def check(document: Any) -> bool:
            try:
                compiled(document)
            except fastjsonschema.JsonSchemaException:
                return False
            return True

        return check


def _draft7_compatible(node: Any, top: bool = True) -> bool:
    """Whether a schema means the same to a draft-7 validator as to a 2020-12 one."""
    if isinstance(node, dict):
        if not top and _NEWER_KEYWORDS.intersection(node):
            return False
        if top and _NEWER_KEYWORDS.difference({"$id"}).intersection(node):
            return False
        if "$ref" in node and not _ANNOTATIONS.issuperset(node):
            return False  # before 2020-12, keywords beside $ref were ignored
        return all(_draft7_compatible(value, False) for value in node.values())
    if isinstance(node, list):
        return all(_draft7_compatible(value, False) for value in node)
    return True


def _as_draft7(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema relabelled as draft 7 when that does not change its meaning, else None."""
    if not _draft7_compatible(schema):
        return None
    return {**schema, "$schema": _DRAFT7}


def _read(path: Path) -> dict[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: cannot read schema: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a schema must be a JSON object")
    return schema
