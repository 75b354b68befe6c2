"""`gantry search QUERY [--kind K] [--limit N] [--json] [--index PATH]`: ranked search.

Reads dist/catalog.duckdb unless --index names another; the default index is built from
./catalog first when it is missing. Exit status: 0 (also when nothing matches), 2 for a
usage error or an index that cannot be read.
"""

from __future__ import annotations

import json

import click

from ..index.search import MAX_LIMIT, search
from ._shared import open_index


def _cell(value: object, width: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(results: list[dict]) -> str:
    """Results as aligned columns for people."""
    headers = ("KIND", "NAMESPACE", "NAME", "OWNER", "TITLE")
    widths = [max(len(h), *(len(_cell(r[h.lower()], 40)) for r in results)) for h in headers]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for result in results:
        cells = [_cell(result[h.lower()], 40) for h in headers]
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(lines)


@click.command(name="search")
@click.argument("query")
@click.option("--kind", default=None, help="Only entities of this kind (any case).")
@click.option("--limit", default=20, show_default=True,
              type=click.IntRange(1, MAX_LIMIT), help="How many results at most.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--index", "index", default=None, metavar="PATH",
              help="The index to read (default dist/catalog.duckdb).")
def command(query: str, kind: str | None, limit: int, as_json: bool, index: str | None) -> None:
    """Search entities by name, title, tags, owner and description, best match first."""
    con = open_index("search", index)
    try:
        results = search(con, query, kind=kind, limit=limit)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    elif results:
        click.echo(table(results))
    else:
        click.echo(f"no entity matches '{query}'" + (f" among kind {kind}" if kind else ""))
