"""Read the catalog's YAML files into entities, refusing unsafe or broken YAML with positions.

The loader composes each file with PyYAML's C parser when present (the pure-Python one
otherwise) and converts the node tree itself, so that it can: report duplicate keys (which
PyYAML silently drops), refuse every non-standard tag (nothing is ever constructed from a
tag such as `!!python/object`), stop alias bombs by bounding the expanded size of a
document, and keep YAML timestamps as the strings that were written.

Positions of individual values are found on demand with `locate()`, which re-reads the file:
keeping every node's position in memory for 100k entities would cost gigabytes, while
problems are rare.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .selection import exclusions_for
from .structure.entity import Entity
from .structure.problem import Problem

try:  # PyYAML built with libyaml
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader with a quicker tag resolver.

    The C parser calls back into Python to resolve the tag of every plain scalar; PyYAML's
    resolver rebuilds its candidate list on each call. This one keeps the list per first
    character. Same answers (Gantry registers no path resolvers); a tenth of the load time.
    """

    _candidates: dict[str, list] = {}

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                first = value[:1] if value else ""
                candidates = self._candidates.get(first)
                if candidates is None:
                    candidates = (self.yaml_implicit_resolvers.get(first, [])
                                  + self.yaml_implicit_resolvers.get(None, []))
                    self._candidates[first] = candidates
                for tag, pattern in candidates:
                    if pattern.match(value):
                        return tag
            return self.DEFAULT_SCALAR_TAG
        if kind is SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        return self.DEFAULT_MAPPING_TAG

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest catalog file accepted; an entity file is a few kilobytes."""
MAX_NODES_PER_DOCUMENT = 50_000
"""Largest expanded document (nodes after following aliases): stops alias bombs."""
MAX_DEPTH = 64
"""Deepest nesting accepted; entity documents are a handful of levels deep."""
YAML_SUFFIXES = (".yaml", ".yml")
MKDOCS_FILES = ("mkdocs.yml", "mkdocs.yaml")
"""MkDocs settings beside a docs folder: never catalog YAML."""

_TAG = "tag:yaml.org,2002:"
_constructor = SafeConstructor()


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What the index's content-hash cache needs to know about a file."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(slots=True)
class LoadResult:
    entities: list[Entity] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, FileInfo] = field(default_factory=dict)


class _Abort(Exception):
    """A document cannot be converted at all (too large or too deep)."""

    def __init__(self, node: Node, message: str, rule: str):
        super().__init__(message)
        self.node = node
        self.message = message
        self.rule = rule


class _Converter:
    """Turns one composed document into plain Python, collecting problems as it goes."""

    def __init__(self, display: str):
        self.display = display
        self.problems: list[Problem] = []
        self.count = 0

    def problem(self, node: Node, message: str, rule: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.display, mark.line + 1, mark.column + 1, message, rule))

    def convert(self, node: Node, depth: int = 0) -> object:
        self.count += 1
        if self.count > MAX_NODES_PER_DOCUMENT:
            raise _Abort(node, f"document expands to more than {MAX_NODES_PER_DOCUMENT} values "
                         "(aliases repeated too often?); refused", "yaml-too-large")
        if depth > MAX_DEPTH:
            raise _Abort(node, f"document is nested deeper than {MAX_DEPTH} levels; refused",
                         "yaml-too-deep")
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                self.bad_tag(node)
                return None
            return [self.convert(child, depth + 1) for child in node.value]
        if isinstance(node, MappingNode):
            if node.tag != _TAG + "map":
                self.bad_tag(node)
                return None
            return self.mapping(node, depth)
        self.bad_tag(node)  # pragma: no cover - composer yields only the three kinds
        return None

    def bad_tag(self, node: Node) -> None:
        tag = node.tag.replace(_TAG, "!!")
        self.problem(node, f"YAML tag '{tag}' is not allowed: the catalog holds plain data, "
                     "and tags are never executed", "yaml-tag")

    def scalar(self, node: ScalarNode) -> object:
        tag = node.tag
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return _constructor.construct_yaml_bool(node)
        if tag == _TAG + "int":
            return _constructor.construct_yaml_int(node)
        if tag == _TAG + "float":
            return _constructor.construct_yaml_float(node)
        if tag == _TAG + "timestamp":
            return node.value
        self.bad_tag(node)
        return None

    def mapping(self, node: MappingNode, depth: int) -> dict:
        result: dict[str, object] = {}
        first_seen: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, "a mapping key must be a plain scalar, not a list or "
                             "mapping", "yaml-key")
                continue
            key = key_node.value
            if key in first_seen:
                self.problem(key_node, f"duplicate key '{key}' (first defined at line "
                             f"{first_seen[key]}); YAML keeps only one of them",
                             "yaml-duplicate-key")
                continue
            first_seen[key] = key_node.start_mark.line + 1
            result[key] = self.convert(value_node, depth + 1)
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                merged = self.convert(source, depth + 1)
                if not isinstance(merged, dict):
                    self.problem(source, "a merge key '<<' needs a mapping or a list of "
                                 "mappings", "yaml-merge")
                    continue
                for key, value in merged.items():
                    result.setdefault(key, value)
        return result


def _decode(raw: bytes, display: str) -> tuple[str | None, Problem | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, Problem(display, line, column, f"file is not valid UTF-8 (byte "
                             f"0x{raw[exc.start]:02x}); save it as UTF-8", "encoding")


def parse_text(text: str, display: str, path: str = "") -> tuple[list[Entity], list[Problem]]:
    """Parse every document of one file's text into entities; empty documents are skipped."""
    entities: list[Entity] = []
    problems: list[Problem] = []
    too_deep = _nesting_problem(text, display)
    if too_deep:
        return entities, [too_deep]
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            doc_index = index
            index += 1
            if node is None:
                continue
            converter = _Converter(display)
            try:
                data = converter.convert(node)
            except _Abort as abort:
                converter.problem(abort.node, abort.message, abort.rule)
                problems += converter.problems
                continue
            problems += converter.problems
            if data is None:
                continue
            if not isinstance(data, dict):
                shape = "a list" if isinstance(data, list) else "a single value"
                converter.problems.clear()
                converter.problem(node, f"document is {shape}; an entity is a mapping with "
                                  "apiVersion, kind, metadata and spec", "not-a-mapping")
                problems += converter.problems
                continue
            end = node.end_mark.line + (1 if node.end_mark.column else 0)
            entities.append(Entity(data, path, doc_index, node.start_mark.line + 1,
                                   max(end, node.start_mark.line + 1)))
    except yaml.MarkedYAMLError as exc:
        too_deep = _parser_depth_problem(exc, display)
        if too_deep:
            problems.append(too_deep)
            return entities, problems
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "cannot be read"
        if exc.context and exc.problem:
            message += f" ({exc.context}"
            if exc.context_mark:
                start = exc.context_mark
                message += f" that starts at line {start.line + 1}, column {start.column + 1}"
            message += ")"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if mark and text[mark.index:mark.index + 1] == "\t":
            message = "found a tab character; YAML indentation must use spaces"
        problems.append(Problem(display, line, column, f"YAML syntax error: {message}",
                                "yaml-syntax"))
    except yaml.YAMLError as exc:
        problems.append(Problem(display, 1, 1, f"YAML error: {exc}", "yaml-syntax"))
    except RecursionError:
        problems.append(Problem(display, 1, 1, "document is nested too deeply to read; refused",
                                "yaml-too-deep"))
    finally:
        loader.dispose()
    return entities, problems


def _nesting_problem(text: str, display: str) -> Problem | None:
    """Refuse documents nested deeper than MAX_DEPTH before the recursive composer sees them.

    Flow brackets make deep nesting cheap to write, and a deep enough document crashes the
    C composer, so a file with many brackets is first walked as a flat stream of events.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return Problem(display, mark.line + 1, mark.column + 1, "document is "
                                   f"nested deeper than {MAX_DEPTH} levels; refused",
                                   "yaml-too-deep")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        return _parser_depth_problem(exc, display)  # other errors: the composer reports them
    except yaml.YAMLError:
        return None
    return None


def _parser_depth_problem(exc: yaml.MarkedYAMLError, display: str) -> Problem | None:
    """The parser's own nesting limit (PyYAML 6.0.4 and later) as a `yaml-too-deep` problem.

    Newer parsers stop at about 1,000 levels by themselves, before Gantry's own walk reaches
    its limit; the file is refused for the same reason either way, so it gets the same rule.
    """
    if "maximum nesting depth" not in (exc.problem or ""):
        return None
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(display, line, column,
                   f"document is nested deeper than {MAX_DEPTH} levels; refused", "yaml-too-deep")


def _display(display_root: str, relpath: str) -> str:
    return f"{display_root.rstrip('/')}/{relpath}" if display_root else relpath


def load_file(root: Path, relpath: str, display_root: str | None = None
              ) -> tuple[list[Entity], list[Problem], FileInfo | None]:
    """Load one file of the catalog; `relpath` is relative to `root`, posix style."""
    display = _display(str(root) if display_root is None else display_root, relpath)
    full = root / relpath
    try:
        stat = full.stat()
        if stat.st_size > MAX_FILE_BYTES:
            return [], [Problem(display, 1, 1, f"file is {stat.st_size} bytes, larger than the "
                                f"{MAX_FILE_BYTES} bytes a catalog file may have; split it",
                                "file-too-large")], None
        raw = full.read_bytes()
    except OSError as exc:
        return [], [Problem(display, 1, 1, f"cannot read file: {exc.strerror}", "io")], None
    info = FileInfo(len(raw), stat.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    text, problem = _decode(raw, display)
    if problem:
        return [], [problem], info
    entities, problems = parse_text(text, display, relpath)
    return entities, problems, info


def catalog_files(root: Path) -> list[str]:
    """Relative posix paths of every YAML file under `root`, sorted; hidden folders and
    paths matched by gantry.yaml's `exclude` globs skipped.

    A folder that cannot be listed raises OSError: skipping it silently would let files go
    unchecked.
    """
    excluded = exclusions_for(Path(root))
    found: list[str] = []
    root_str = str(root)

    def refuse(error: OSError) -> None:
        raise error

    for dirpath, dirnames, filenames in os.walk(root_str, onerror=refuse):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root_str)
        if excluded:
            prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            dirnames[:] = [d for d in dirnames if not excluded.excluded(prefix + d, True)]
        for filename in sorted(filenames):
            if (filename.endswith(YAML_SUFFIXES) and not filename.startswith(".")
                    and filename not in MKDOCS_FILES):
                rel = (filename if rel_dir == "." else f"{rel_dir}/{filename}").replace(os.sep, "/")
                if not excluded or not excluded.excluded(rel):
                    found.append(rel)
    return found


def load_catalog(root: Path, display_root: str | None = None) -> LoadResult:
    """Load every YAML file under `root`. A missing folder raises FileNotFoundError."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"catalog folder not found: {root}")
    return without_docs_files(load_files(root, catalog_files(root), display_root))


def without_docs_files(result: LoadResult) -> LoadResult:
    """Drop the entities and problems read from YAML inside the docs folders entities point
    at (examples in the docs are not catalog entries); the files of the pointing entities
    themselves stay. The files stay listed, so the index's file cache still matches a scan."""
    from .docs.sources import pointer_of

    owners: set[str] = set()
    folders: set[str] = set()
    for entity in result.entities:
        pointer = pointer_of(entity.path, entity.metadata)
        if pointer is None:
            continue
        owners.add(entity.path)
        folder = "" if pointer.folder == "." else pointer.folder + "/"
        if entity.path.startswith(folder):
            # The entity's own folder (`dir:.`) holds catalog files, its siblings among
            # them: only the MkDocs project's Markdown folder (`docs/` by default) is docs.
            folder += "docs/"
        folders.add(folder)
    if not folders:
        return result

    def inside(path: str) -> bool:
        return path not in owners and any(path.startswith(folder) for folder in folders)

    dropped = {path for path in result.files if inside(path)}
    if not dropped:
        return result
    result.entities = [e for e in result.entities if e.path not in dropped]
    result.problems = [p for p in result.problems if not any(
        p.file == path or p.file.endswith("/" + path) for path in dropped)]
    return result


def load_files(root: Path, relpaths: list[str], display_root: str | None = None) -> LoadResult:
    """Load the given files of the catalog (relative posix paths), in the order given."""
    result = LoadResult()
    for relpath in relpaths:
        entities, problems, info = load_file(root, relpath, display_root)
        result.entities += entities
        result.problems += problems
        if info is not None:
            result.files[relpath] = info
    return result


def _walk(node: Node, path: tuple, key: bool) -> Node:
    """The node at `path` (or the key node of its last step), else the deepest ancestor."""
    current = node
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode) and key_node.value == step:
                    if last and key:
                        return key_node
                    current = value_node
                    break
            else:
                return current
        elif isinstance(current, SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(current.value):
                return current
            current = current.value[step]
        else:
            return current
    return current


def locate(root: Path, entity: Entity, path: tuple, key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the value at `path` in the entity's document.

    With `key=True`, the position of the key itself (where an unexpected key is reported).
    Falls back to the nearest existing ancestor, and to the document start.
    """
    return locate_many(root, entity, [(path, key)])[0]


def locate_many(root: Path | None, entity: Entity, requests: list[tuple[tuple, bool]]
                ) -> list[tuple[int, int]]:
    """`locate()` for several `(path, key)` requests in one document, reading the file once.

    Without a root, or when the file no longer holds the document, every request falls back to
    the document's first line.
    """
    fallback = (entity.line, 1)
    if root is None or not requests:
        return [fallback] * len(requests)
    try:
        text = (Path(root) / entity.path).read_bytes().decode("utf-8-sig")
        loader = _Loader(text)
        try:
            index = 0
            while loader.check_node():
                node = loader.get_node()
                if index == entity.doc_index and node is not None:
                    found = []
                    for path, key in requests:
                        mark = _walk(node, path, key).start_mark
                        found.append((mark.line + 1, mark.column + 1))
                    return found
                index += 1
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        pass
    return [fallback] * len(requests)
