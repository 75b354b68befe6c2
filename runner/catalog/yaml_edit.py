"""Edit one entity inside a catalog YAML file without disturbing anything else in it.

People write catalog files by hand, with comments, their own key order, quoting and
indentation, and sometimes several documents per file. A write through the API must change
only the lines of the values that really changed. Two mechanisms make that hold:

1. The target document is changed minimally with ruamel.yaml's round-trip types: subtrees
   whose value did not change are never touched, so their comments and styles survive.
2. ruamel.yaml may still re-indent or re-wrap parts of a file it merely passed through. The
   new text is therefore merged line by line onto the original: the difference between
   ruamel's rendering of the unchanged file and of the changed file is applied to the
   original text (a three-way merge with ruamel's rendering as the base). Every line outside
   the changed region is kept byte for byte.

The result is read back with the same loader as CI and compared with what was asked for;
a mismatch raises `EditError` instead of writing something unexpected.
"""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Iterable
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from generator.load import parse_text
from generator.structure.entity import DEFAULT_NAMESPACE

DERIVED_METADATA = ("createdAt", "updatedAt", "createdBy")
"""Metadata derived from Git history: shown by the API, never written to YAML."""

_ENVELOPE_ORDER = ("apiVersion", "kind", "metadata", "spec")
_METADATA_ORDER = ("name", "namespace", "title", "description", "owner", "tags", "labels",
                   "annotations", "links")
_STR_TAG = "tag:yaml.org,2002:str"
_resolver = yaml.resolver.Resolver()


class EditError(Exception):
    """The file could not be edited safely (unreadable YAML, or a result that reads back wrong)."""


EntityKey = tuple[str, str, str]
"""(kind, namespace, name) of an entity; kind compared case-insensitively."""


def identity_of(data: dict[str, Any]) -> EntityKey:
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    return str(data.get("kind", "")).lower(), str(namespace), str(metadata.get("name", ""))


def strip_derived(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the entity without the Git-derived metadata fields."""
    copy = json.loads(json.dumps(data))
    metadata = copy.get("metadata")
    if isinstance(metadata, dict):
        for key in DERIVED_METADATA:
            metadata.pop(key, None)
    return copy


def _yaml_for(indent: tuple[int, int, int] = (2, 4, 2)) -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    mapping, sequence, offset = indent
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    return rt


def _fits_literal_block(value: str) -> bool:
    """Whether a multi-line string reads back unchanged from a `|` block."""
    if "\n" not in value or not value.strip() or value[0] in " \n" or "\r" in value \
            or "\t" in value:
        return False
    return all(line == line.rstrip() for line in value.split("\n"))


def _plain_string(value: str) -> Any:
    """A string as ruamel should write it so that PyYAML (YAML 1.1, as CI reads) gets a str."""
    if _fits_literal_block(value):
        return LiteralScalarString(value)
    if "\n" in value or "\r" in value or "\t" in value:
        return DoubleQuotedScalarString(value)
    if _resolver.resolve(yaml.nodes.ScalarNode, value, (True, False)) != _STR_TAG:
        return DoubleQuotedScalarString(value)
    return value


def _to_node(value: Any) -> Any:
    """Plain JSON-like data as ruamel round-trip objects."""
    if isinstance(value, dict):
        node = CommentedMap()
        for key, child in value.items():
            node[key] = _to_node(child)
        return node
    if isinstance(value, list):
        return CommentedSeq(_to_node(child) for child in value)
    if isinstance(value, str):
        return _plain_string(value)
    return value


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    """The envelope in the conventional key order (apiVersion, kind, metadata, spec)."""
    ordered = {key: data[key] for key in _ENVELOPE_ORDER if key in data}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    metadata = ordered.get("metadata")
    if isinstance(metadata, dict):
        meta = {key: metadata[key] for key in _METADATA_ORDER if key in metadata}
        meta.update((key, value) for key, value in metadata.items() if key not in meta)
        ordered["metadata"] = meta
    return ordered


def _dump(rt: YAML, documents: Iterable[Any]) -> str:
    buffer = io.StringIO()
    rt.dump_all(list(documents), buffer)
    return buffer.getvalue()


def render_new(data: dict[str, Any]) -> str:
    """YAML text for a file holding one new entity."""
    return _dump(_yaml_for(), [_to_node(_ordered(data))])


# --- minimal in-place change of a round-trip document -------------------------------------

def _key_in(node: CommentedMap, key: str) -> Any:
    for existing in node:
        if str(existing) == key:
            return existing
    return None


def _apply_map(node: CommentedMap, old: dict, new: dict) -> None:
    for existing in list(node):
        if str(existing) not in new:
            del node[existing]
    for key, value in new.items():
        existing = _key_in(node, key)
        if existing is None or key not in old:
            node[key if existing is None else existing] = _to_node(value)
        elif old[key] != value:
            node[existing] = _apply(node[existing], old[key], value)


def _apply_seq(node: CommentedSeq, old: list, new: list) -> None:
    keys_old = [json.dumps(item, sort_keys=True) for item in old]
    keys_new = [json.dumps(item, sort_keys=True) for item in new]
    opcodes = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(opcodes):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                node[i1 + offset] = _apply(node[i1 + offset], old[i1 + offset],
                                           new[j1 + offset])
            continue
        del node[i1:i2]
        for position, item in enumerate(new[j1:j2]):
            node.insert(i1 + position, _to_node(item))


def _apply(node: Any, old: Any, new: Any) -> Any:
    """`node` (holding `old`) changed to hold `new`; untouched parts keep their formatting."""
    if old == new:
        return node
    if isinstance(node, CommentedMap) and isinstance(old, dict) and isinstance(new, dict):
        _apply_map(node, old, new)
        return node
    if isinstance(node, CommentedSeq) and isinstance(old, list) and isinstance(new, list):
        _apply_seq(node, old, new)
        return node
    return _to_node(new)


# --- line merge -------------------------------------------------------------------------------

def _hunks(base: list[str], other: list[str], side: str) -> list[tuple[int, int, list[str], str]]:
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [(i1, i2, other[j1:j2], side) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"]


def _apply_hunks(base: list[str], lo: int, hi: int, hunks: list) -> list[str]:
    out: list[str] = []
    cursor = lo
    for i1, i2, lines, _side in hunks:
        out += base[cursor:i1]
        out += lines
        cursor = i2
    out += base[cursor:hi]
    return out


def merge_lines(original: str, base: str, changed: str) -> str:
    """Apply the change `base → changed` to `original`, a differently formatted `base`.

    Where the formatting difference and the change touch the same lines, the change wins for
    that region; everywhere else the original lines are kept as they were.
    """
    base_lines = base.splitlines(keepends=True)
    formatting = _hunks(base_lines, original.splitlines(keepends=True), "format")
    content = _hunks(base_lines, changed.splitlines(keepends=True), "content")
    hunks = sorted(formatting + content, key=lambda h: (h[0], h[1], h[3]))
    out: list[str] = []
    position = 0
    index = 0
    while index < len(hunks):
        group = [hunks[index]]
        lo, hi = hunks[index][0], hunks[index][1]
        index += 1
        while index < len(hunks) and hunks[index][0] < hi:
            group.append(hunks[index])
            hi = max(hi, hunks[index][1])
            index += 1
        out += base_lines[position:lo]
        sides = {hunk[3] for hunk in group}
        chosen = group if len(sides) == 1 else [h for h in group if h[3] == "content"]
        out += _apply_hunks(base_lines, lo, hi, chosen)
        position = hi
    out += base_lines[position:]
    return "".join(out)


# --- the public edit --------------------------------------------------------------------------

def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation used by a document, for lines ruamel writes."""
    mapping = 2
    guessed_mapping = False
    offset = None
    previous = ""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        prev_indent = len(previous) - len(previous.lstrip(" "))
        opens_block = previous.rstrip().endswith(":")
        if opens_block and stripped.startswith("- ") and indent >= prev_indent:
            if offset is None:
                offset = indent - prev_indent
        elif opens_block and indent > prev_indent and not guessed_mapping:
            mapping = indent - prev_indent
            guessed_mapping = True
        previous = line
    offset = 2 if offset is None else offset
    return mapping, max(mapping, offset + 2), offset


def _document_text(text: str, start_line: int, end_line: int) -> str:
    return "\n".join(text.splitlines()[start_line - 1:end_line])


def _plain_documents(text: str) -> list[dict[str, Any]]:
    entities, problems = parse_text(text, "<edited>")
    if problems:
        raise EditError(f"the edited file does not read back cleanly: {problems[0].message}")
    return [entity.data for entity in entities]


def edit_file(text: str, target: EntityKey, new_data: dict[str, Any] | None) -> str:
    """The file `text` with the entity `target` replaced by `new_data` (removed when None).

    Returns the new text; an empty string means no document is left in the file.
    Raises KeyError when the file does not hold the entity, EditError when it cannot be
    edited safely.
    """
    entities, problems = parse_text(text, "<file>")
    if problems:
        raise EditError(f"the file holding the entity has YAML problems: {problems[0].message}")
    plain = [entity.data for entity in entities]
    matches = [i for i, data in enumerate(plain) if identity_of(data) == target]
    if not matches:
        raise KeyError(target)
    position = matches[0]
    located = entities[position]
    rt = _yaml_for(_guess_indent(_document_text(text, located.line, located.end_line)))
    try:
        documents = [doc for doc in rt.load_all(text) if doc is not None]
    except RuamelError as exc:
        raise EditError(f"the file cannot be read for editing: {exc}") from exc
    if len(documents) != len(plain):
        raise EditError("the file's documents could not be matched for editing")
    base = _dump(rt, documents)
    if new_data is None:
        del documents[position]
    else:
        documents[position] = _apply(documents[position], plain[position], new_data)
    changed = _dump(rt, documents) if documents else ""
    expected = plain[:position] + ([] if new_data is None else [new_data]) + plain[position + 1:]
    if not expected:
        return ""
    for candidate in (merge_lines(text, base, changed), changed):
        try:
            if _plain_documents(candidate) == expected:
                return candidate
        except EditError:
            continue
    raise EditError("the edited file would not read back as the requested entity; "
                    "nothing was written")


def _check_new(text: str, data: dict[str, Any]) -> str:
    if _plain_documents(text) != [data]:
        raise EditError("the entity cannot be written as YAML that reads back the same")
    return text


def new_file_text(data: dict[str, Any]) -> str:
    """YAML for a new entity file, checked to read back exactly as `data`."""
    return _check_new(render_new(data), data)

