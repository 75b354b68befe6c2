"""The relationship graph around one entity, walked breadth-first.

Only forward edges are stored; walking "in" follows them backwards. Node ids are
`kind/name` (lower-case kind) as the REST API shows them, or `kind/namespace/name` when
the namespace is not `default`. Hubs (a Team owns hundreds of entities, an Environment
thousands) make deep graphs explode, so a walk stops adding nodes at `max_nodes` and says
`"truncated": true`.

A depth-3 walk touches hundreds of nodes; asking DuckDB for each level's neighbours scans
the whole `relations` table each time (tens of milliseconds at 100k entities). The graph is
therefore loaded once per index revision into compact adjacency lists shared by all
connections of the process (`cache.py`), and walked in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from ..structure.entity import DEFAULT_NAMESPACE, make_ref, parse_ref
from .cache import cached, carry_forward
from .relations import Edge

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


@dataclass(frozen=True, slots=True)
class _Adjacency:
    """The whole graph in memory: entity number -> neighbours, both directions.

    Numbers follow the order of refs; a neighbour is packed as `number * width + type code`.
    """

    refs: list[str]
    numbers: dict[str, int]
    info: list[tuple[str, str, str, str | None]]
    types: list[str]
    width: int
    outgoing: list[list[int]]
    incoming: list[list[int]]


def _load(con: duckdb.DuckDBPyConnection) -> _Adjacency:
    rows = con.execute("SELECT ref, kind, namespace, name, title FROM entities "
                       "ORDER BY ref").fetchall()
    refs = [row[0] for row in rows]
    numbers = {ref: i for i, ref in enumerate(refs)}
    types = [t for (t,) in con.execute("SELECT DISTINCT type FROM relations "
                                       "ORDER BY type").fetchall()]
    width = max(1, len(types))
    edges = con.execute(f"""
        WITH numbered AS (SELECT ref, (row_number() OVER (ORDER BY ref) - 1)::INTEGER AS n
                          FROM entities),
             kinds AS (SELECT type, (row_number() OVER (ORDER BY type) - 1)::INTEGER AS code
                       FROM (SELECT DISTINCT type FROM relations))
        SELECT s.n, t.n * {width} + k.code, s.n * {width} + k.code, t.n
        FROM relations r
        JOIN numbered s ON s.ref = r.source
        JOIN numbered t ON t.ref = r.target
        JOIN kinds k ON k.type = r.type
        ORDER BY s.n, t.n, k.code""").fetchall()
    outgoing: list[list[int]] = [[] for _ in refs]
    incoming: list[list[int]] = [[] for _ in refs]
    for source, to_target, to_source, target in edges:
        outgoing[source].append(to_target)
        incoming[target].append(to_source)
    info = [row[1:] for row in rows]
    return _Adjacency(refs, numbers, info, types, width, outgoing, incoming)


def _advance(graph: _Adjacency, rows: list[tuple], gone: set[str], removed: set[Edge],
             added: set[Edge]) -> _Adjacency | None:
    """`graph` after an update: `rows` (ref, kind, namespace, name, title) of the entities
    written, `gone` the refs deleted, and the edges removed and added.

    Lists that change are copied, so walks still reading the old revision are not disturbed.
    New entities are numbered after the others, so neighbour lists that change are sorted
    by ref again. None (load afresh) when an edge has a type the graph did not know.
    """
    code = {name: i for i, name in enumerate(graph.types)}
    if any(edge[1] not in code for edge in added):
        return None
    width = graph.width
    refs, info = list(graph.refs), list(graph.info)
    numbers = dict(graph.numbers)
    outgoing, incoming = list(graph.outgoing), list(graph.incoming)
    for source, kind, target in removed:
        s, t = numbers[source], numbers[target]
        outgoing[s] = [p for p in outgoing[s] if p != t * width + code[kind]]
        incoming[t] = [p for p in incoming[t] if p != s * width + code[kind]]
    for ref in gone:
        numbers.pop(ref, None)
    for ref, *fields in rows:
        number = numbers.get(ref)
        if number is None:
            numbers[ref] = len(refs)
            refs.append(ref)
            info.append(tuple(fields))
            outgoing.append([])
            incoming.append([])
        else:
            info[number] = tuple(fields)

    def by_ref(packed: int) -> tuple[str, int]:
        return refs[packed // width], packed % width

    for source, kind, target in added:
        s, t = numbers[source], numbers[target]
        outgoing[s] = sorted([*outgoing[s], t * width + code[kind]], key=by_ref)
        incoming[t] = sorted([*incoming[t], s * width + code[kind]], key=by_ref)
    return _Adjacency(refs, numbers, info, graph.types, width, outgoing, incoming)


def carry_graph_forward(con: duckdb.DuckDBPyConnection,
                        old_revision: str | None, new_revision: str, gone: set[str],
                        written: set[str], removed: set[Edge], added: set[Edge]) -> None:
    """After an update in this process: move the cached adjacency of `old_revision` to
    `new_revision` (the entities `written` re-read from `con`)."""
    def advance(graph: _Adjacency) -> _Adjacency | None:
        rows: list[tuple] = []
        if written:
            wanted = sorted(written)
            rows = con.execute("SELECT ref, kind, namespace, name, title FROM entities "
                               f"WHERE ref IN ({', '.join('?' * len(wanted))})",
                               wanted).fetchall()
        return _advance(graph, rows, gone, removed, added)

    carry_forward("graph", old_revision, new_revision, advance)


def warm(con: duckdb.DuckDBPyConnection) -> None:
    """Load the adjacency of this revision now, so the first walk does not wait for it."""
    cached(con, "graph", _load)


def graph(con: duckdb.DuckDBPyConnection, ref_or_kind_name: str, depth: int = 1,
          direction: str = "both", namespace: str = DEFAULT_NAMESPACE,
          max_nodes: int = MAX_NODES) -> dict[str, Any]:
    """Nodes and typed edges within `depth` steps of an entity (rest-api.md's shape).

    Nodes come in walk order (the entity first); edges are those followed. Raises
    ValueError for a bad depth, direction or name, EntityNotFound for an unknown entity.
    """
    if not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, not {depth!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    start = parse_target(ref_or_kind_name, namespace)
    adjacency = cached(con, "graph", _load)
    first = adjacency.numbers.get(start)
    if first is None:
        raise EntityNotFound(f"no entity {start} in the index")
    tables = [(adjacency.outgoing, True), (adjacency.incoming, False)]
    if direction != "both":
        tables = tables[:1] if direction == "out" else tables[1:]
    order, edges, truncated = _walk(first, depth, tables, adjacency.width, max_nodes)
    info = adjacency.info
    nodes = []
    for number in order:
        kind, ns, name, title = info[number]
        nodes.append({"id": node_id(kind, ns, name), "kind": kind, "name": name,
                      "namespace": ns, "title": title, "ref": adjacency.refs[number]})
    ids = {number: nodes[i]["id"] for i, number in enumerate(order)}
    return {"nodes": nodes, "truncated": truncated,
            "edges": [{"from": ids[s], "to": ids[t], "type": adjacency.types[code]}
                      for s, code, t in sorted(edges, key=lambda e: (
                          adjacency.refs[e[0]], e[1], adjacency.refs[e[2]]))]}


def _walk(first: int, depth: int, tables: list[tuple[list[list[int]], bool]], width: int,
          max_nodes: int) -> tuple[list[int], set[tuple[int, int, int]], bool]:
    """Breadth-first walk over `(neighbour lists, lists hold forward edges)` tables; stops
    adding nodes at `max_nodes` and then says it truncated."""
    order = [first]
    seen = {first}
    edges: set[tuple[int, int, int]] = set()
    frontier = [first]
    for _ in range(depth):
        following: list[int] = []
        for node in frontier:
            for table, forward in tables:
                for packed in table[node]:
                    other, code = divmod(packed, width)
                    if other not in seen:
                        if len(order) >= max_nodes:
                            return order, edges, True
                        seen.add(other)
                        order.append(other)
                        following.append(other)
                    edges.add((node, code, other) if forward else (other, code, node))
        frontier = following
        if not frontier:
            break
    return order, edges, False
