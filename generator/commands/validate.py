"""`gantry validate [CATALOG]`: check the catalog and report every problem in one run.

CATALOG is a folder (every YAML file under it) or a YAML file (that file and the files its
Backstage Locations reach: `gantry validate catalog-info.yaml`).

Exit status: 0 when the catalog is valid, 1 when problems were found, 2 for a usage or I/O
error (a missing folder, a broken schema file).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..load import YAML_SUFFIXES
from ..selection import reachable_files
from ..structure.kinds import SchemaError, SchemaRegistry
from ..validate import validate_catalog
from ..validate.report import FORMATS, render, step_summary, summary_line


def display_root_for(catalog: str, fmt: str) -> str:
    """How file names are shown: as typed for people; relative to the repository root for
    GitHub annotations and SARIF, which both need repository-relative paths."""
    if fmt in ("github", "sarif"):
        absolute = Path(catalog).resolve()
        for folder in (absolute, *absolute.parents):
            if (folder / ".git").exists():
                relative = absolute.relative_to(folder).as_posix()
                return "" if relative == "." else relative
        try:
            relative = absolute.relative_to(Path.cwd().resolve()).as_posix()
            return "" if relative == "." else relative
        except ValueError:
            return absolute.as_posix()
    normal = os.path.normpath(catalog).replace(os.sep, "/")
    return "" if normal == "." else normal


def _fail(message: str) -> None:
    click.echo(f"gantry validate: {message}", err=True)
    sys.exit(2)


@click.command(name="validate")
@click.argument("catalog", default="catalog", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for scripts, github for workflow annotations, "
                   "sarif for code scanning.")
@click.option("--schemas", "schema_dirs", multiple=True, metavar="DIR",
              help="A folder of extra kind schemas (*.json); repeatable.")
def command(catalog: str, fmt: str, schema_dirs: tuple[str, ...]) -> None:
    """Check CATALOG (default: catalog): schemas, names, duplicates and references."""
    root = Path(catalog)
    if not root.exists():
        _fail(f"catalog folder not found: {catalog}")
    files: list[str] | None = None
    if not root.is_dir():
        if not root.name.endswith(YAML_SUFFIXES):
            _fail(f"not a folder or a YAML file: {catalog} (give the catalog folder, or a "
                  "catalog file such as catalog-info.yaml)")
        entry, root = root.name, root.parent
        catalog = str(root)
        try:
            files = reachable_files(root, entry)
        except OSError as exc:
            _fail(f"cannot read {exc.filename or entry}: {exc.strerror or exc}")
    try:
        registry = SchemaRegistry(schema_dirs)
        result = validate_catalog(root, registry, display_root=display_root_for(catalog, fmt),
                                  workers=os.cpu_count() or 1, files=files)
    except SchemaError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot read {exc.filename or catalog}: {exc.strerror or exc}")
    click.echo(render(fmt, result.problems, len(result.entities), len(result.files)), nl=False)
    if fmt != "text":
        click.echo(summary_line(result.problems, len(result.entities), len(result.files)),
                   err=True)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(step_summary(result.problems, len(result.entities),
                                          len(result.files)))
        except OSError as exc:
            click.echo(f"gantry validate: cannot write the step summary: {exc.strerror}",
                       err=True)
    sys.exit(0 if result.ok else 1)
