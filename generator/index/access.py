"""Opening the index for queries from the shell: the default one is built when missing.

`gantry search` and `gantry graph` read `dist/catalog.duckdb` unless told otherwise. When
that default index is missing, unreadable or of another schema version it is (re)built from
`./catalog` first, with a note; an index named explicitly is never replaced behind the
user's back: they get the reason instead.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .build import build_index
from .schema import IndexUnusable, open_index

DEFAULT_INDEX = Path("dist") / "catalog.duckdb"
DEFAULT_CATALOG = Path("catalog")


def open_for_query(index: Path | None, catalog: Path = DEFAULT_CATALOG
                   ) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """A read-only connection to the index and the notes to show (e.g. "built it first").

    Raises IndexUnusable (explicit index) or FileNotFoundError (no catalog to build from).
    """
    notes: list[str] = []
    if index is not None:
        try:
            return open_index(index), notes
        except IndexUnusable as exc:
            raise IndexUnusable(f"cannot use the index {index}: {exc}") from exc
    try:
        return open_index(DEFAULT_INDEX), notes
    except IndexUnusable as exc:
        reason = str(exc)
    if not Path(catalog).is_dir():
        raise FileNotFoundError(f"no index at {DEFAULT_INDEX} ({reason}) and no catalog folder "
                                f"'{catalog}' to build it from; run 'gantry build' or give "
                                "--index")
    stats = build_index(catalog, DEFAULT_INDEX)
    notes.append(f"the index {DEFAULT_INDEX} was built first ({reason}): "
                 f"{stats.entities} entities from {catalog}")
    notes += stats.notes
    return open_index(DEFAULT_INDEX), notes
