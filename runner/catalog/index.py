"""Opening the runner's DuckDB index, whatever state a stop left it in.

The index is derived data. `open_or_rebuild` is the one way the runner opens it: an index
that cannot be opened, replayed or read is set aside with a warning and rebuilt from the
catalog, so a damaged file never keeps the runner from starting.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from generator.index.build import wal_of
from generator.index.schema import IndexUnusable, check_index, first_line

from ..errors import StatusError

log = logging.getLogger(__name__)

BROKEN_SUFFIX = ".broken"
LOCK_WAIT_SECONDS = 10.0
"""How long a start waits for a process that is ending (an old worker) to free the index."""


class WorkspaceError(StatusError):
    """The workspace cannot be served (missing catalog, an index held or unreadable)."""

    status = 503


def connect_index(index: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `index`, its log folded into the file and its tables
    checked; IndexUnusable says why it cannot be used.

    The checkpoint matters: DuckDB leaves a replayed log in place when a connection only
    reads, and a log left beside a file that a build later replaces would not match it.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(index))
            break
        except duckdb.Error as exc:
            if "could not set lock" not in str(exc).lower():
                raise IndexUnusable(f"it cannot be opened ({first_line(exc)})") from exc
            if time.monotonic() > deadline:  # held, not broken: never set aside
                raise WorkspaceError(f"the index {index} is held by another process: "
                                     f"{first_line(exc)}") from exc
            time.sleep(0.1)
    try:
        con.execute("CHECKPOINT")
        check_index(con)
        con.execute("SELECT count(*) FROM meta").fetchone()
    except (duckdb.Error, IndexUnusable) as exc:
        con.close()
        if isinstance(exc, IndexUnusable):
            raise
        raise IndexUnusable(f"it cannot be read ({first_line(exc)})") from exc
    return con


def set_aside(index: Path) -> Path:
    """Move an unusable index and its log to `<index>.broken` (replacing an older one), for
    a look later; they are derived data and are rebuilt from the catalog."""
    aside = index.with_name(index.name + BROKEN_SUFFIX)
    wal_of(aside).unlink(missing_ok=True)
    if index.exists():
        os.replace(index, aside)
    if wal_of(index).exists():
        os.replace(wal_of(index), wal_of(aside))
    return aside


def remove_leftover_builds(folder: Path, name: str) -> None:
    """Delete temporary build folders a stop left behind (`.<name>.*`)."""
    for leftover in folder.glob(f".{name}.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def open_or_rebuild(index: Path, rebuild: Callable[[], None]) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `index`; `rebuild()` builds it again when it is unusable.

    An index that cannot be opened, replayed or read (a damaged file, a log of another
    database, a truncated log, an older schema) is set aside with a warning and built
    again from the catalog; the index is derived data, so nothing is lost.
    """
    if index.is_file():
        try:
            return connect_index(index)
        except IndexUnusable as exc:
            aside = set_aside(index)
            log.warning("index: %s %s; it was moved to %s and is rebuilt from the catalog",
                        index, exc, aside.name)
    elif wal_of(index).exists():
        log.warning("index: a write-ahead log without its index was found; it was set "
                    "aside and the index is rebuilt from the catalog")
        set_aside(index)
    rebuild()
    try:
        return connect_index(index)
    except IndexUnusable as exc:
        raise WorkspaceError(f"the index {index} was rebuilt but cannot be opened: "
                             f"{exc}") from exc
