"""The Pagefind search index, built with the binary shipped in the `pagefind[bin]` wheel.

Pagefind reads HTML. Rather than have it parse every full entity page (relationship
picture, YAML, activity), each entity gets a small search document — title, kind, name,
description, tags, owner — at the same relative path as its page, in a scratch folder
(in memory when the system offers a tmpfs); the bundle Pagefind writes from them points at
the real pages. The bundle replaces `pagefind/` in the site as a whole, so no stale
fragment stays behind, and it works offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .model import EntityRow
from .urls import entity_dir

BUNDLE = "pagefind"
_MEMORY_TMP = Path("/dev/shm")


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the message says which and why."""


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def search_document(row: EntityRow) -> bytes:
    """The text Pagefind indexes for one entity (its title is the result's title)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>'
        f'<main data-pagefind-body><h1 data-pagefind-meta="title">{_esc(row.display_name)}'
        f'</h1><p><span data-pagefind-filter="kind">{_esc(row.kind)}</span> '
        f"{_esc(row.namespace)}/{_esc(row.name)} {_esc(row.name.replace('-', ' '))}</p>"
        f"<p>{_esc(row.description)}</p><p>{_esc(' '.join(row.tags))}</p>"
        f"<p>{_esc(row.owner)} {_esc(row.lifecycle)} {_esc(row.type)}</p></main></body></html>"
    ).encode()


def scratch_folder() -> Path:
    """A new empty folder for search documents, in memory when possible."""
    fast = _MEMORY_TMP if _MEMORY_TMP.is_dir() and os.access(_MEMORY_TMP, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="gantry-search-", dir=fast))


def write_documents(scratch: Path, rows: list[EntityRow]) -> None:
    """Write the search documents of `rows` (their folders' parents must exist)."""
    for row in rows:
        folder = scratch / entity_dir(row.ref)
        os.mkdir(folder)
        with open(folder / "index.html", "xb") as handle:
            handle.write(search_document(row))


def pagefind_executable() -> Path:
    """The Pagefind binary bundled with the `pagefind[bin]` Python package."""
    try:
        import pagefind_bin
    except ImportError as exc:
        raise SearchIndexError(
            "the pagefind binary is not installed: pip install 'pagefind[bin]'"
        ) from exc
    try:
        return pagefind_bin.get_executable()
    except FileNotFoundError as exc:
        raise SearchIndexError(f"the pagefind binary is missing: {exc}") from exc


def build_search_index(scratch: Path, site_dir: Path) -> None:
    """Index the search documents in `scratch` into `site_dir/pagefind/`."""
    fresh = site_dir / f".{BUNDLE}-new"
    shutil.rmtree(fresh, ignore_errors=True)
    command = [
        str(pagefind_executable()), "--site", str(scratch), "--output-path", str(fresh),
        "--glob", "catalog/**/index.html", "--keep-index-url", "--silent",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SearchIndexError(f"pagefind could not run: {exc}") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise SearchIndexError("pagefind failed: " + " ".join(detail))
    bundle = site_dir / BUNDLE
    old = site_dir / f".{BUNDLE}-old"
    shutil.rmtree(old, ignore_errors=True)
    if bundle.exists():
        os.replace(bundle, old)
    os.replace(fresh, bundle)
    shutil.rmtree(old, ignore_errors=True)
