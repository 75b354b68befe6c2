"""The Pagefind search index, built with the binary shipped in the `pagefind_bin` wheel.

Only entity pages carry `data-pagefind-body`, so only they are indexed; the bundle goes to
`pagefind/` in the site and works offline (the search page loads it with a relative URL).
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class SearchIndexError(RuntimeError):
    """Pagefind is missing or failed; the message says which and why."""


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


def build_search_index(site_dir: Path) -> None:
    """Index the entity pages of `site_dir` into `site_dir/pagefind/`."""
    command = [
        str(pagefind_executable()), "--site", str(site_dir), "--output-subdir", "pagefind",
        "--glob", "catalog/**/index.html", "--keep-index-url", "--silent",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SearchIndexError(f"pagefind could not run: {exc}") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise SearchIndexError("pagefind failed: " + " ".join(detail))
