"""In-memory structures derived from an index, kept once per index revision.

Graph walks and search read compact Python structures instead of querying DuckDB row by
row. Loading one costs a pass over the index, so each is cached per structure and
`meta.revision` and shared by every connection of the process. The revision is a random
token renewed by every build and update, so it names one content whichever file holds it
(a copy of an index shares its cache, correctly). The next use after a change loads again —
unless the update ran in this process and carried the structure forward (`carry_forward`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")
log = logging.getLogger(__name__)

_CACHE: OrderedDict[tuple[str, str], Any] = OrderedDict()
_PER_NAME = 2
"""Revisions kept per structure: the current one and the one readers may still hold."""
_LOCK = threading.Lock()
_LOADING: dict[str, threading.Lock] = {}


def revision_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """`meta.revision` of the index `con` reads."""
    row = con.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
    return row[0] if row else None


def cached(con: duckdb.DuckDBPyConnection, name: str,
           load: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """The `name` structure of the index revision `con` reads, loaded on first use.

    One thread loads while others asking for the same structure wait, so a burst of
    requests after an update costs one load, not one each.
    """
    revision = revision_of(con)
    if revision is None:
        return load(con)
    key = (name, revision)
    found = _get(key)
    if found is not None:
        return found
    with _LOCK:
        loading = _LOADING.setdefault(name, threading.Lock())
    with loading:
        found = _get(key)
        if found is None:
            found = load(con)
            _put(key, found)
    return found


def carry_forward(name: str, old_revision: str | None, new_revision: str,
                  advance: Callable[[T], T | None]) -> None:
    """Store `advance(structure of old_revision)` as the structure of `new_revision`.

    For updates made in this process: moving a structure forward by the change is cheaper
    than loading it again. Nothing happens when the old revision is not cached or
    `advance` returns None (then the next use loads).
    """
    if old_revision is None:
        return
    found = _get((name, old_revision))
    if found is None:
        return
    try:
        moved = advance(found)
    except Exception:  # a cache: the next use loads afresh, which is always right
        log.warning("could not carry the %s structure forward; it will be reloaded", name,
                    exc_info=True)
        return
    if moved is not None:
        _put((name, new_revision), moved)


def clear() -> None:
    """Forget every cached structure (the next use of each loads it)."""
    with _LOCK:
        _CACHE.clear()


def cached_revisions(name: str) -> set[str]:
    """The revisions for which `name` is cached."""
    with _LOCK:
        return {key[1] for key in _CACHE if key[0] == name}


def _get(key: tuple[str, str]) -> Any:
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
        return found


def _put(key: tuple[str, str], value: Any) -> None:
    with _LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        same = [k for k in _CACHE if k[0] == key[0]]
        for old in same[:-_PER_NAME]:
            del _CACHE[old]
