"""The relationship graph around one entity, walked breadth-first.

Only forward edges are stored; walking "in" follows them backwards. Node ids are
`kind/name` (lower-case kind) as the REST API shows them, or `kind/namespace/name` when
the namespace is not `default`. Hubs (a Team owns hundreds of entities, an Environment
thousands) make deep graphs explode, so a walk stops adding nodes at `max_nodes` and says
`"truncated": true`.

A depth-3 walk touches hundreds of nodes; asking DuckDB for each level's neighbours scans
the whole `relations` table each time (tens of milliseconds at 100k entities). The graph is
therefore loaded once per index revision (`meta.revision`, renewed by every build and
update) into compact adjacency lists shared by all connections of the process, and walked
in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
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


_CACHE: OrderedDict[tuple[str | None, str], _Adjacency] = OrderedDict()
_CACHE_SIZE = 2
_LOCK = threading.Lock()


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


def _adjacency(con: duckdb.DuckDBPyConnection) -> _Adjacency:
    """The cached adjacency of this index revision (loaded on first use after a change)."""
    row = con.execute("SELECT (SELECT value FROM meta WHERE key = 'revision'), "
                      "(SELECT path FROM duckdb_databases() "
                      "WHERE database_name = current_database())").fetchone()
    revision, path = row
    if revision is None:
        return _load(con)
    key = (path, revision)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    loaded = _load(con)
    with _LOCK:
        _CACHE[key] = loaded
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return loaded


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
    adjacency = _adjacency(con)
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
                      for s, code, t in sorted(edges)]}


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
