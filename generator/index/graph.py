"""The relationship graph around one entity, walked breadth-first over `relations`.

Only forward edges are stored; walking "in" follows them backwards. Node ids are
`kind/name` (lower-case kind) as the REST API shows them, or `kind/namespace/name` when
the namespace is not `default`. Hubs (a Team owns hundreds of entities) make deep graphs
explode, so a walk stops adding nodes at `max_nodes` and says `"truncated": true`.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ..structure.entity import DEFAULT_NAMESPACE, make_ref, parse_ref

MAX_DEPTH = 5
DIRECTIONS = ("out", "in", "both")
MAX_NODES = 500
"""Default cap on nodes returned; a picture with more is unreadable anyway."""


class EntityNotFound(LookupError):
    """The graph's starting entity is not in the index."""


def parse_target(text: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """A ref from `kind:namespace/name`, `kind/name` (in `namespace`) or `kind/ns/name`."""
    if ":" in text:
        kind, ns, name = parse_ref(text)
        parts = [kind, ns, name]
    else:
        parts = text.strip("/").split("/")
        if len(parts) == 2:
            parts = [parts[0], namespace, parts[1]]
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"'{text}' is not KIND/NAME, KIND/NAMESPACE/NAME or "
                         "kind:namespace/name")
    return make_ref(parts[0], parts[1], parts[2])


def node_id(kind: str, namespace: str, name: str) -> str:
    """`kind/name`, or `kind/namespace/name` outside the default namespace."""
    kind = kind.lower()
    return f"{kind}/{name}" if namespace == DEFAULT_NAMESPACE else f"{kind}/{namespace}/{name}"


def _ref_id(ref: str) -> str:
    kind, namespace, name = parse_ref(ref)
    return node_id(kind, namespace, name)


def _neighbours(con: duckdb.DuckDBPyConnection, frontier: list[str], direction: str
                ) -> list[tuple[str, str, str]]:
    edges: list[tuple[str, str, str]] = []
    if direction in ("out", "both"):
        edges += con.execute("SELECT source, type, target FROM relations "
                             "WHERE source IN (SELECT unnest(?::VARCHAR[]))", [frontier]).fetchall()
    if direction in ("in", "both"):
        edges += con.execute("SELECT source, type, target FROM relations "
                             "WHERE target IN (SELECT unnest(?::VARCHAR[]))", [frontier]).fetchall()
    return edges


def graph(con: duckdb.DuckDBPyConnection, ref_or_kind_name: str, depth: int = 1,
          direction: str = "both", namespace: str = DEFAULT_NAMESPACE,
          max_nodes: int = MAX_NODES) -> dict[str, Any]:
    """Nodes and typed edges within `depth` steps of an entity (rest-api.md's shape).

    Raises ValueError for a bad depth, direction or name, EntityNotFound for an unknown
    entity.
    """
    if not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, not {depth!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    start = parse_target(ref_or_kind_name, namespace)
    if con.execute("SELECT 1 FROM entities WHERE ref = ?", [start]).fetchone() is None:
        raise EntityNotFound(f"no entity {start} in the index")
    seen = {start}
    order = [start]
    edges: set[tuple[str, str, str]] = set()
    frontier = [start]
    truncated = False
    for _ in range(depth):
        if not frontier:
            break
        found = _neighbours(con, frontier, direction)
        fresh: set[str] = set()
        for source, _type, target in found:
            for ref in (source, target):
                if ref not in seen:
                    fresh.add(ref)
        room = max_nodes - len(order)
        added = sorted(fresh)[:max(room, 0)]
        truncated = truncated or len(added) < len(fresh)
        seen.update(added)
        order.extend(added)
        edges.update(e for e in found if e[0] in seen and e[2] in seen)
        frontier = added
    return {"nodes": _nodes(con, order), "truncated": truncated,
            "edges": [{"from": _ref_id(s), "to": _ref_id(t), "type": k}
                      for s, k, t in sorted(edges)]}


def _nodes(con: duckdb.DuckDBPyConnection, refs: list[str]) -> list[dict[str, Any]]:
    rows = con.execute("SELECT ref, kind, namespace, name, title FROM entities "
                       "WHERE ref IN (SELECT unnest(?::VARCHAR[]))", [refs]).fetchall()
    found = {row[0]: row for row in rows}
    nodes = []
    for ref in refs:
        if ref not in found:
            continue
        _, kind, namespace, name, title = found[ref]
        nodes.append({"id": node_id(kind, namespace, name), "kind": kind, "name": name,
                      "namespace": namespace, "title": title, "ref": ref})
    return nodes
