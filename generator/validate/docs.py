"""Checks of the docs folders entities point at: the folder exists, the mkdocs.yml nav
names files that exist, and relative links and images inside the Markdown resolve.

Problems about the pointer are reported at the entity's field; problems inside the docs
at the mkdocs.yml line or at the Markdown file's line and column.
"""

from __future__ import annotations

from pathlib import Path

from ..docs.render import render_page
from ..docs.sources import MAX_DOC_BYTES, DocsSite, inside_catalog, pointer_of, read_site
from ..structure.entity import Entity
from ..structure.problem import Problem
from .finding import Finding, display_path, dotted, to_problems


def docs_problems(root: Path, entities: list[Entity], display_root: str | None = None
                  ) -> list[Problem]:
    """Every docs problem of `entities` (each folder checked once, however many point at it)."""
    root = Path(root)
    findings: list[Finding] = []
    problems: list[Problem] = []
    checked: set[str] = set()
    sites: dict[str, DocsSite | None] = {}
    for entity in entities:
        pointer = pointer_of(entity.path, entity.metadata)
        if pointer is None:
            continue
        field = dotted(pointer.field) if pointer.field[-1] == "path" else (
            f"metadata.annotations['{pointer.field[-1]}']")
        if not inside_catalog(pointer.folder):
            findings.append(Finding(entity, pointer.field, f"{field}: '{pointer.written}' "
                                    "leaves the catalog folder; docs must live inside it",
                                    "docs-path"))
            continue
        # Read each folder once: with `techdocs-ref: dir:.` every entity of a folder of
        # thousands of files points at that same folder.
        if pointer.folder not in sites:
            sites[pointer.folder] = read_site(root, pointer.folder)
        site = sites[pointer.folder]
        if site is None:
            findings.append(Finding(entity, pointer.field, f"{field}: docs folder "
                                    f"'{pointer.written}' ({pointer.folder}) does not exist",
                                    "docs-path"))
            continue
        if pointer.folder in checked:
            continue
        checked.add(pointer.folder)
        if site.config_error is not None:
            line, column, message = site.config_error
            problems.append(Problem(display_path(root, display_root, site.mkdocs_file),
                                    line, column, message, "docs-nav"))
        if site.mkdocs_file and not site.files:
            problems.append(Problem(display_path(root, display_root, site.mkdocs_file), 1, 1,
                                    f"docs folder '{site.markdown_root}' named by mkdocs.yml "
                                    "holds no files", "docs-nav"))
        for entry in site.missing_nav:
            problems.append(Problem(
                display_path(root, display_root, site.mkdocs_file), entry.line or 1, 1,
                f"nav names '{entry.file}', which is not in {site.markdown_root}/",
                "docs-nav"))
        problems += _page_problems(root, site.markdown_root, site.markdown_files,
                                   set(site.files), display_root)
    return problems + to_problems(findings, root, display_root)


def _page_problems(root: Path, markdown_root: str, markdown: set[str], files: set[str],
                   display_root: str | None) -> list[Problem]:
    problems: list[Problem] = []
    for name in sorted(markdown):
        path = root / markdown_root / name
        try:
            if path.stat().st_size > MAX_DOC_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        display = display_path(root, display_root, f"{markdown_root}/{name}")
        for reference in render_page(text, name, markdown, files,
                                     html=False).references:
            if reference.found is not None:
                continue
            if reference.kind == "image":
                message = f"image '{reference.target}' does not exist in the docs folder"
            else:
                message = f"link '{reference.target}' names no page or file in the docs folder"
            problems.append(Problem(display, reference.line, reference.column, message,
                                    f"docs-{reference.kind}"))
    return problems
