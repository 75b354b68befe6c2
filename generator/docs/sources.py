"""Where an entity's docs are and in which order their pages come.

An entity points at a folder with `metadata.docs.path` or, as Backstage entities do, with
the annotation `backstage.io/techdocs-ref: dir:<path>`; both are relative to the entity's
file. A folder with an `mkdocs.yml` is read the way MkDocs reads it: the Markdown lives in
its `docs_dir` (default `docs`), `nav` orders the pages and `site_name` titles them.
Without one, the folder itself holds the Markdown, ordered by path with `index.md` or
`README.md` first.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TECHDOCS_REF = "backstage.io/techdocs-ref"
MKDOCS_FILES = ("mkdocs.yml", "mkdocs.yaml")
MARKDOWN_SUFFIXES = (".md", ".markdown")
INDEX_NAMES = ("index.md", "README.md", "readme.md")
MAX_DOC_BYTES = 2_000_000
"""A Markdown file larger than this is not rendered (a page that size is a mistake)."""


@dataclass(frozen=True, slots=True)
class DocsPointer:
    """An entity's claim to a docs folder: `folder` relative to the catalog root (posix,
    normalised), `field` the document path that names it (for problems at its line)."""

    folder: str
    field: tuple
    written: str


@dataclass(slots=True)
class NavEntry:
    """One page of the nav: its Markdown file (relative to the Markdown root), its title
    (None: the page's first heading), and the mkdocs.yml line that names it (0: none)."""

    file: str
    title: str | None
    line: int = 0
    section: str = ""


@dataclass(slots=True)
class DocsSite:
    """One docs folder as read from disk: where its Markdown lives, its pages in order, its
    other files (images), and what went wrong reading `mkdocs.yml`."""

    folder: str
    markdown_root: str
    site_name: str
    nav: list[NavEntry]
    files: list[str]
    mkdocs_file: str = ""
    missing_nav: list[NavEntry] = field(default_factory=list)
    config_error: tuple[int, int, str] | None = None

    @property
    def markdown_files(self) -> set[str]:
        return {name for name in self.files if name.endswith(MARKDOWN_SUFFIXES)}


def pointer_of(path: str, metadata: dict[str, Any]) -> DocsPointer | None:
    """The docs folder an entity (in the catalog file `path`) points at, if any.

    `metadata.docs.path` wins over the TechDocs annotation; a TechDocs reference that is
    not `dir:` (a URL) is not something a static build can read, so it is ignored.
    """
    docs = metadata.get("docs")
    written: str | None = None
    at: tuple = ()
    if isinstance(docs, dict) and isinstance(docs.get("path"), str) and docs["path"].strip():
        written, at = docs["path"].strip(), ("metadata", "docs", "path")
    else:
        annotations = metadata.get("annotations")
        ref = annotations.get(TECHDOCS_REF) if isinstance(annotations, dict) else None
        if isinstance(ref, str) and ref.strip().startswith("dir:"):
            written = ref.strip()[4:].strip() or "."
            at = ("metadata", "annotations", TECHDOCS_REF)
    if written is None:
        return None
    base = posixpath.dirname(path)
    folder = posixpath.normpath(posixpath.join(base, written)) if not written.startswith(
        "/") else "/"
    return DocsPointer(folder, at, written)


def inside_catalog(folder: str) -> bool:
    """False for a folder that climbs out of the catalog (`../..`) or is absolute."""
    return not (folder.startswith("/") or folder == ".." or folder.startswith("../"))


def _walk_files(base: Path) -> list[str]:
    """Regular files under `base`, hidden ones and symbolic links left out: a link could
    publish a file from outside the repository (a key, a password file) with the site."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, base)
        for name in sorted(filenames):
            if not name.startswith(".") and not os.path.islink(os.path.join(dirpath, name)):
                found.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return found


def _default_order(markdown: list[str]) -> list[NavEntry]:
    def key(name: str) -> tuple:
        folder, _, base = name.rpartition("/")
        return (folder.split("/") if folder else [], base not in INDEX_NAMES, base.lower())
    return [NavEntry(name, None) for name in sorted(markdown, key=key)]


def _nav_entries(node: yaml.Node, section: str, out: list[NavEntry]) -> None:
    """Flatten an mkdocs `nav` node: strings, `{title: file}` and `{section: [...]}`."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _nav_entries(item, section, out)
    elif isinstance(node, yaml.ScalarNode):
        out.append(NavEntry(str(node.value), None, node.start_mark.line + 1, section))
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            title = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
            if isinstance(value, yaml.ScalarNode):
                out.append(NavEntry(str(value.value), title, value.start_mark.line + 1, section))
            else:
                _nav_entries(value, title, out)


def _read_mkdocs(path: Path) -> tuple[dict[str, Any], yaml.Node | None, tuple | None]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_MkdocsLoader) if node is not None else {}
    except OSError as exc:
        return {}, None, (1, 1, f"cannot read mkdocs.yml: {exc.strerror}")
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return {}, None, (*where, f"mkdocs.yml is not valid YAML: {getattr(exc, 'problem', exc)}")
    if not isinstance(data, dict):
        return {}, None, (1, 1, "mkdocs.yml must be a mapping")
    nav = None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "nav":
                nav = value
    return data, nav, None


class _MkdocsLoader(yaml.SafeLoader):
    """mkdocs.yml files use `!!python/name:` and `!ENV` tags; read them as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_MkdocsLoader.add_multi_constructor("!", _any_tag)
_MkdocsLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)


def read_site(catalog_root: Path, folder: str) -> DocsSite | None:
    """Read the docs folder `folder` (relative to `catalog_root`); None when it is missing."""
    base = catalog_root / folder
    if not inside_catalog(folder) or not base.is_dir():
        return None
    mkdocs = next((name for name in MKDOCS_FILES if (base / name).is_file()), "")
    site_name, markdown_root, nav_node, error = "", folder, None, None
    config: dict[str, Any] = {}
    if mkdocs:
        config, nav_node, error = _read_mkdocs(base / mkdocs)
        docs_dir = str(config.get("docs_dir") or "docs")
        markdown_root = posixpath.normpath(posixpath.join(folder, docs_dir))
        site_name = str(config.get("site_name") or "")
    root_path = catalog_root / markdown_root
    files = _walk_files(root_path) if inside_catalog(markdown_root) and root_path.is_dir() else []
    if not mkdocs:
        files = [name for name in files if name not in MKDOCS_FILES]
    markdown = [name for name in files if name.endswith(MARKDOWN_SUFFIXES)]
    site = DocsSite(folder, markdown_root, site_name, [], files,
                    f"{folder}/{mkdocs}" if mkdocs else "", config_error=error)
    if nav_node is not None:
        listed: list[NavEntry] = []
        _nav_entries(nav_node, "", listed)
        present = set(markdown)
        for entry in listed:
            target = posixpath.normpath(entry.file)
            if "://" in entry.file or entry.file.startswith("mailto:"):
                continue
            if target in present:
                entry.file = target
                site.nav.append(entry)
            else:
                site.missing_nav.append(entry)
    else:
        site.nav = _default_order(markdown)
    return site


def content_hash(catalog_root: Path, site: DocsSite, salt: str = "") -> str:
    """A digest of everything a docs folder renders from: file names and bytes, and the
    mkdocs.yml; `salt` adds what the pages show from outside (title, assets)."""
    digest = hashlib.sha256(salt.encode())
    if site.mkdocs_file:
        digest.update(_read_bytes(catalog_root / site.mkdocs_file))
    base = catalog_root / site.markdown_root
    for name in site.files:
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(_read_bytes(base / name))
    return digest.hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def page_slug(markdown_file: str) -> str:
    """The page folder of a Markdown file inside the docs, '' for the docs' front page:
    `guide/setup.md` -> `guide/setup`, `index.md` -> '', `guide/README.md` -> `guide`."""
    folder, _, base = markdown_file.rpartition("/")
    if base in INDEX_NAMES:
        return folder
    stem = base.rsplit(".", 1)[0]
    return f"{folder}/{stem}" if folder else stem
