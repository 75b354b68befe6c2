"""`gantry graph KIND/NAME [--depth N] [--direction out|in|both] [--json] [--index PATH]
[--namespace NS]`: the entities related to one entity, as a tree or JSON.

Exit status: 0, 1 when the entity is not in the index, 2 for a usage error or an index
that cannot be read.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import click

from ..index.graph import DIRECTIONS, MAX_DEPTH, EntityNotFound, graph
from ._shared import open_index


def _fail(message: str, status: int = 2) -> None:
    click.echo(f"gantry graph: {message}", err=True)
    sys.exit(status)


def tree(result: dict) -> str:
    """The graph as an indented tree from its first node; `→` out-edges, `←` in-edges."""
    nodes = {node["id"]: node for node in result["nodes"]}
    links: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for edge in result["edges"]:
        links[edge["from"]].append(("→", edge["type"], edge["to"]))
        links[edge["to"]].append(("←", edge["type"], edge["from"]))
    root = result["nodes"][0]["id"]
    lines = [_label(nodes[root])]
    seen = {root}

    def walk(node_id: str, prefix: str) -> None:
        children = [link for link in sorted(links[node_id]) if link[2] not in seen]
        seen.update(link[2] for link in children)
        for position, (arrow, kind, other) in enumerate(children):
            last = position == len(children) - 1
            lines.append(f"{prefix}{'└─' if last else '├─'} {arrow} {kind} "
                         f"{_label(nodes[other])}")
            walk(other, prefix + ("   " if last else "│  "))

    walk(root, "")
    if result.get("truncated"):
        lines.append(f"… more entities are related; showing the first {len(nodes)}")
    return "\n".join(lines)


def _label(node: dict) -> str:
    title = f" — {node['title']}" if node.get("title") else ""
    return f"{node['id']} ({node['kind']}){title}"


@click.command(name="graph")
@click.argument("entity", metavar="KIND/NAME")
@click.option("--depth", default=1, show_default=True, type=click.IntRange(1, MAX_DEPTH),
              help="How many steps to walk.")
@click.option("--direction", default="both", show_default=True, type=click.Choice(DIRECTIONS),
              help="out: what it points at; in: what points at it.")
@click.option("--namespace", default="default", show_default=True,
              help="The namespace of KIND/NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--index", "index", default=None, metavar="PATH",
              help="The index to read (default dist/catalog.duckdb).")
def command(entity: str, depth: int, direction: str, namespace: str, as_json: bool,
            index: str | None) -> None:
    """Show the entities related to KIND/NAME (or KIND/NAMESPACE/NAME), in both directions."""
    con = open_index("graph", index)
    try:
        result = graph(con, entity, depth=depth, direction=direction, namespace=namespace)
    except ValueError as exc:
        _fail(str(exc))
    except EntityNotFound as exc:
        _fail(str(exc), 1)
    finally:
        con.close()
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else tree(result))
