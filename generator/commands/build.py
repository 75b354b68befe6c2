"""`gantry build [--catalog DIR] [--out DIR]`: validate, then write the index and the site.

`--catalog` may also name a YAML file (`all.yaml`, `catalog-info.yaml`): then that file and
the files its Backstage Locations reach are read, nothing else.

Exit status: 0 built (or already current), 1 the catalog has problems (the validator's
report is printed and the previous index and site stay as they were), 2 a usage or I/O
error (missing catalog folder, unwritable output folder, unreadable gantry.yaml).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from ..index.build import IndexStats, build_index, current_index, index_path_for
from ..load import YAML_SUFFIXES
from ..selection import reachable_files
from ..site.build import build_site
from ..site.config import GantryYamlError, load_config, locate_config
from ..site.search import SearchIndexError


def _fail(message: str, status: int = 2) -> None:
    click.echo(f"gantry build: {message}", err=True)
    sys.exit(status)


def _display(path: Path) -> str:
    normal = os.path.normpath(str(path)).replace(os.sep, "/")
    return "" if normal == "." else normal


def _make_folder(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        _fail(f"the output folder {out_dir} is not writable")


def _config(catalog: Path) -> dict[str, Any] | None:
    """The repository's gantry.yaml (`locate_config`) as a dict, or None when absent."""
    path = locate_config(catalog)
    if not path.is_file():
        return None
    try:
        return load_config(path, path.name)
    except GantryYamlError as exc:
        _fail(str(exc))
    return None


def _validate(catalog: Path, files: list[str] | None = None) -> Any:
    """The validator's result; its report is printed and the command ends on problems."""
    from ..structure.kinds import SchemaError
    from ..validate import validate_catalog
    from ..validate.report import as_text

    try:
        result = validate_catalog(catalog, display_root=_display(catalog),
                                  workers=os.cpu_count() or 1, files=files)
    except SchemaError as exc:
        _fail(str(exc))
    if not result.ok:
        click.echo(as_text(result.problems, len(result.entities), len(result.files)), nl=False)
        _fail("the catalog has problems; the previous index and site are unchanged", 1)
    return result


def _site(index: Path, catalog: Path, out: Path, stats: IndexStats,
          config: dict[str, Any] | None, phases: dict[str, float]) -> str:
    """Build the site (only the changed pages when the index says which); a summary line.
    The site's steps are added to `phases`."""
    site_out = out / "site"
    changed = None if stats.unchanged or not site_out.is_dir() else stats.changed_refs
    try:
        result = build_site(index, catalog, site_out, config=config, changed_refs=changed)
    except SearchIndexError as exc:
        _fail(f"the site's search index could not be built: {exc}")
    for name, seconds in getattr(result, "phases", {}).items():
        concurrent = name == "search index" and getattr(result, "search_concurrent", False)
        phases[f"{name} (beside the pages)" if concurrent else name] = seconds
    if getattr(result, "skipped", False):
        return f"site: {site_out} unchanged"
    pages = getattr(result, "pages_written", None)
    detail = f", {pages} pages written" if pages is not None else ""
    docs = getattr(result, "docs_rendered", None)
    if docs:
        detail += f", docs of {len(docs)} entit{'y' if len(docs) == 1 else 'ies'} rendered"
    return f"site: {site_out}{detail}"


@click.command(name="build")
@click.option("--catalog", default="catalog", show_default=True, metavar="DIR",
              help="The catalog folder to read, or a catalog file and its Locations.")
@click.option("--out", default="dist", show_default=True, metavar="DIR",
              help="Where catalog.duckdb and site/ are written.")
@click.option("--timings", is_flag=True,
              help="Print the wall seconds of each step to standard error.")
def command(catalog: str, out: str, timings: bool) -> None:
    """Validate the catalog, then write OUT/catalog.duckdb and OUT/site/."""
    started = time.perf_counter()
    root, out_dir = Path(catalog), Path(out)
    files: list[str] | None = None
    if root.is_file() and root.name.endswith(YAML_SUFFIXES):
        try:
            files = reachable_files(root.parent, root.name)
        except OSError as exc:
            _fail(f"cannot read {exc.filename or catalog}: {exc.strerror or exc}")
        root = root.parent
    elif not root.is_dir():
        _fail(f"catalog folder not found: {catalog}" if not root.exists()
              else f"not a folder or a YAML file: {catalog} (give the catalog folder)")
    if out_dir.exists() and not out_dir.is_dir():
        _fail(f"the output folder {out} is a file")
    index = index_path_for(out_dir)
    config = _config(root)
    phases: dict[str, float] = {}
    try:
        lap = time.perf_counter()
        stats = current_index(root, index)
        if stats is None:
            validation = _validate(root, files)
            phases["validation"] = time.perf_counter() - lap
            _make_folder(out_dir)
            stats = build_index(root, index, validation=validation)
            del validation  # every entity parsed: the site reads the index, not these
            phases.update(stats.phases)
        else:
            phases["index check"] = time.perf_counter() - lap
        site_line = _site(index, root, out_dir, stats, config, phases)
    except OSError as exc:
        _fail(f"cannot write to {out}: {exc.strerror or exc}")
    for note in stats.notes:
        click.echo(f"note: {note}", err=True)
    state = "unchanged" if stats.unchanged else "written"
    click.echo(f"index: {index} {state} ({stats.entities} entities, {stats.relations} "
               f"relations, {stats.files_reread} of {stats.files} files re-read)")
    click.echo(site_line)
    total = time.perf_counter() - started
    if timings:
        for name, seconds in phases.items():
            click.echo(f"timing: {name:<32} {seconds:7.2f}s", err=True)
        click.echo(f"timing: {'total':<32} {total:7.2f}s", err=True)
    click.echo(f"done in {total:.2f}s")
