"""Writing an entity's docs pages into the site, and only when their folder changed.

Pages land under the entity's page: `catalog/<kind>/<ns>/<name>/docs/<page>/index.html`,
with images and other files under `docs/_files/`. A manifest (`.gantry-docs.json` in the
site folder) keeps each entity's content hash, so a build renders a folder again only when
one of its files, its mkdocs.yml or what its pages show from outside (the entity's title,
the site's title and assets) changed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment

from ..site.output import WriteTally, write_if_changed
from ..site.urls import entity_dir, entity_href, page_file, root_prefix
from .render import FILES_FOLDER, RenderedPage, page_href, render_page
from .sources import (
    MARKDOWN_SUFFIXES,
    MAX_DOC_BYTES,
    TECHDOCS_REF,
    DocsPointer,
    DocsSite,
    content_hash,
    page_slug,
    pointer_of,
    read_site,
)

MANIFEST = ".gantry-docs.json"
DOCS_FOLDER = "docs"
POOL_THRESHOLD = 12
"""Docs folders to render before a pool of forked processes pays for itself."""
_JOB: dict[str, Any] = {}


@dataclass(slots=True)
class DocsEntry:
    """An entity with a readable docs folder."""

    ref: str
    title: str
    site: DocsSite
    digest: str = ""


@dataclass(slots=True)
class DocsStats:
    rendered_entities: list[str] = field(default_factory=list)
    skipped_entities: int = 0
    pages_written: int = 0
    removed_entities: list[str] = field(default_factory=list)
    max_page_bytes: int = 0


def may_have_docs(metadata_json: str) -> bool:
    """A cheap test on the metadata's JSON text before parsing it."""
    return '"docs"' in metadata_json or TECHDOCS_REF in metadata_json


def pointers(rows: Iterable[tuple[str, str, str]]) -> dict[str, DocsPointer]:
    """The docs folder of each entity that names one, from `(ref, path, metadata_json)`."""
    found: dict[str, DocsPointer] = {}
    for ref, path, metadata_json in rows:
        if not metadata_json or not may_have_docs(metadata_json):
            continue
        try:
            metadata = json.loads(metadata_json)
        except ValueError:
            continue
        if isinstance(metadata, dict):
            pointer = pointer_of(path, metadata)
            if pointer is not None:
                found[ref] = pointer
    return found


def index_rows(index_path: Path) -> list[tuple[str, str, str, str]]:
    """`(ref, path, metadata_json, title)` of the indexed entities that may have docs."""
    con = duckdb.connect(str(index_path), read_only=True)
    try:
        return con.execute(
            "SELECT ref, path, CAST(metadata AS VARCHAR), coalesce(nullif(title, ''), name)"
            " FROM entities WHERE CAST(metadata AS VARCHAR) LIKE '%docs%'"
            " ORDER BY ref").fetchall()
    finally:
        con.close()


def docs_entries(catalog_root: Path, rows: Iterable[tuple[str, str, str, str]], salt: str
                 ) -> dict[str, DocsEntry]:
    """Every entity whose docs folder exists, with its content hash."""
    rows = list(rows)
    titles = {ref: title for ref, _, _, title in rows}
    entries: dict[str, DocsEntry] = {}
    sites: dict[str, DocsSite | None] = {}  # a folder many entities point at is read once
    for ref, pointer in pointers((r, p, m) for r, p, m, _ in rows).items():
        if pointer.folder not in sites:
            sites[pointer.folder] = read_site(catalog_root, pointer.folder)
        site = sites[pointer.folder]
        if site is None or not site.nav:
            continue
        digest = content_hash(catalog_root, site, f"{salt}|{ref}|{titles[ref]}")
        entries[ref] = DocsEntry(ref, titles[ref], site, digest)
    return entries


def state_digest(entries: dict[str, DocsEntry]) -> str:
    """One digest of every docs folder's hash: equal digests, nothing to render."""
    digest = hashlib.sha256()
    for ref in sorted(entries):
        digest.update(f"{ref}={entries[ref].digest};".encode())
    return digest.hexdigest()


def read_manifest(out_dir: Path) -> dict[str, str]:
    try:
        value = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def changed_refs(out_dir: Path, entries: dict[str, DocsEntry]) -> set[str]:
    """Entities whose docs were added, changed or removed since the last build."""
    manifest = read_manifest(out_dir)
    current = {ref: entry.digest for ref, entry in entries.items()}
    return {ref for ref in set(manifest) | set(current) if manifest.get(ref) != current.get(ref)}


def docs_href(root: str, ref: str) -> str:
    """Link from a page with root prefix `root` to an entity's docs front page."""
    return entity_href(root, ref).removesuffix("index.html") + f"{DOCS_FOLDER}/index.html"


def _read_markdown(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_DOC_BYTES:
            return f"*This page is larger than {MAX_DOC_BYTES} bytes and is not shown.*"
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def render_site(catalog_root: Path, site: DocsSite) -> dict[str, RenderedPage]:
    """Every page of the nav rendered, by Markdown file."""
    base = catalog_root / site.markdown_root
    markdown, files = site.markdown_files, set(site.files)
    return {entry.file: render_page(_read_markdown(base / entry.file), entry.file, markdown,
                                    files) for entry in site.nav}


def _write_entity(catalog_root: Path, out_dir: Path, entry: DocsEntry, env: Environment,
                  page_base: dict[str, Any], tally: WriteTally) -> int:
    site = entry.site
    folder = f"{entity_dir(entry.ref)}/{DOCS_FOLDER}"
    target = out_dir / folder
    shutil.rmtree(target, ignore_errors=True)
    rendered = render_site(catalog_root, site)
    titles = {}
    for nav in site.nav:
        stem = nav.file.rpartition("/")[2].rsplit(".", 1)[0]
        titles[nav.file] = nav.title or rendered[nav.file].title or stem.replace("-", " ")
    template = env.get_template("docs.html")
    largest = 0
    docs_title = site.site_name or entry.title
    for nav in site.nav:
        slug = page_slug(nav.file)
        page_folder = f"{folder}/{slug}" if slug else folder
        root = root_prefix(page_folder)
        page = rendered[nav.file]
        sidebar = [{"title": titles[other.file], "section": other.section,
                    "href": page_href(slug, page_slug(other.file)),
                    "current": other.file == nav.file} for other in site.nav]
        html = template.render({
            **page_base, "root": root, "section": "catalog",
            "title": f"{titles[nav.file]} · {entry.title}",
            "entity_title": entry.title, "entity_ref": entry.ref,
            "entity_href": entity_href(root, entry.ref), "docs_title": docs_title,
            "docs_home": page_href(slug, ""), "page_title": titles[nav.file],
            "body": page.html, "toc": page.toc, "sidebar": sidebar,
        }).encode()
        largest = max(largest, len(html))
        write_if_changed(out_dir / page_file(page_folder), html, tally)
    base = catalog_root / site.markdown_root
    for name in site.files:
        if not name.endswith(MARKDOWN_SUFFIXES):
            source = base / name
            destination = target / FILES_FOLDER / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(source, destination)
            except OSError:
                continue
    return largest


def _render_refs(refs: list[str]) -> tuple[int, int]:
    """Render the docs of `refs` (in a worker or in the calling process): (files written,
    largest page)."""
    tally = WriteTally()
    largest = 0
    for ref in refs:
        largest = max(largest, _write_entity(
            _JOB["catalog_root"], _JOB["out_dir"], _JOB["entries"][ref], _JOB["env"],
            _JOB["page_base"], tally))
    return tally.written, largest


def _render_all(refs: list[str]) -> list[tuple[int, int]]:
    workers = min(os.cpu_count() or 1, 4)
    if (len(refs) < POOL_THRESHOLD or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [_render_refs(refs)]
    chunks = [refs[i::workers * 2] for i in range(workers * 2)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return list(pool.imap_unordered(_render_refs, [c for c in chunks if c]))


def write_docs(catalog_root: Path, out_dir: Path, entries: dict[str, DocsEntry],
               env: Environment, page_base: dict[str, Any], tally: WriteTally) -> DocsStats:
    """Render the docs of every entity whose hash differs from the manifest's, remove the
    docs of entities that no longer have any, and record the new manifest.

    Many folders render in a pool of forked processes (they share the loaded templates)."""
    stats = DocsStats()
    manifest = read_manifest(out_dir)
    before = tally.written
    for ref in sorted(entries):
        entry = entries[ref]
        home = out_dir / entity_dir(ref) / DOCS_FOLDER / "index.html"
        if manifest.get(ref) == entry.digest and home.is_file():
            stats.skipped_entities += 1
        else:
            stats.rendered_entities.append(ref)
    _JOB.update(catalog_root=catalog_root, out_dir=out_dir, entries=entries, env=env,
                page_base=page_base)
    try:
        for written, largest in _render_all(stats.rendered_entities):
            tally.written += written
            stats.max_page_bytes = max(stats.max_page_bytes, largest)
    finally:
        _JOB.clear()
    for ref in sorted(set(manifest) - set(entries)):
        try:
            shutil.rmtree(out_dir / entity_dir(ref) / DOCS_FOLDER)
        except (OSError, ValueError):
            pass
        stats.removed_entities.append(ref)
    stats.pages_written = tally.written - before
    (out_dir / MANIFEST).write_text(json.dumps(
        {ref: entry.digest for ref, entry in sorted(entries.items())}))
    return stats
