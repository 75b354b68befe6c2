"""What the query verbs (`search`, `graph`) share: opening the index, or failing clearly."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import duckdb

from ..index.access import open_for_query
from ..index.schema import IndexUnusable


def open_index(verb: str, index: str | None) -> duckdb.DuckDBPyConnection:
    """The index to query (built first when the default one is missing); exit 2 when not."""
    try:
        con, notes = open_for_query(Path(index) if index else None)
    except (IndexUnusable, FileNotFoundError) as exc:
        click.echo(f"gantry {verb}: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"gantry {verb}: cannot build the index: {exc.strerror or exc}", err=True)
        sys.exit(2)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    return con
