"""What the site shows, read from the DuckDB index in a few bulk queries.

Rows stay compact (`EntityRow` with the JSON columns still as text) so that 100,000
entities fit comfortably in memory; a page parses its entity's JSON only when it renders.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..score import read as read_scores

MAX_COMMITS_PER_FILE = 10
"""Commits shown in an entity's activity list."""
SCORECARD_PAGE_ENTITIES = 100
"""Entities listed on a scorecard's page: the lowest scores, where work is needed."""


@dataclass(slots=True)
class EntityRow:
    """One row of the `entities` table, with JSON columns left as text until needed."""

    ref: str
    kind: str
    namespace: str
    name: str
    title: str
    description: str
    owner: str
    lifecycle: str
    type: str
    tags: list[str]
    path: str
    line: int
    end_line: int
    created_at: str
    updated_at: str
    created_by: str
    labels_json: str
    annotations_json: str
    spec_json: str
    metadata_json: str

    @property
    def display_name(self) -> str:
        return self.title or self.name

    def labels(self) -> dict[str, Any]:
        return _json_object(self.labels_json)

    def annotations(self) -> dict[str, Any]:
        return _json_object(self.annotations_json)

    def spec(self) -> dict[str, Any]:
        return _json_object(self.spec_json)

    def metadata(self) -> dict[str, Any]:
        return _json_object(self.metadata_json)


@dataclass(slots=True)
class Commit:
    commit: str
    author: str
    committed_at: str
    message: str


@dataclass
class SiteData:
    """Everything the pages need: entities by ref, edges both ways, and Git activity."""

    entities: dict[str, EntityRow]
    outgoing: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    incoming: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    commits: dict[str, list[Commit]] = field(default_factory=dict)
    scorecards: list[dict[str, Any]] = field(default_factory=list)
    """Each scorecard's summary, teams, rules and lowest-scored entities (score.read)."""


def _json_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of every indexed value the pages show; equal digests mean an equal site."""
    parts = con.execute(
        """
        SELECT
          (SELECT md5(coalesce(string_agg(
              ref || '|' || md5(CAST(data AS VARCHAR)) || '|' || coalesce(path, '') || '|'
              || coalesce(CAST(line AS VARCHAR), '') || '|'
              || coalesce(CAST(updated_at AS VARCHAR), '') || '|'
              || coalesce(CAST(created_at AS VARCHAR), '') || '|' || coalesce(created_by, ''),
              ',' ORDER BY ref), '')) FROM entities),
          (SELECT md5(coalesce(string_agg(source || type || target, ','
              ORDER BY source, type, target), '')) FROM relations)
        """
    ).fetchone()
    commits = ""
    if "file_commits" in _tables(con):
        commits = con.execute(
            "SELECT md5(coalesce(string_agg(path || commit, ',' ORDER BY path, commit), ''))"
            " FROM file_commits"
        ).fetchone()[0]
    scores = ""
    if "scorecard_results" in _tables(con):
        scores = con.execute(
            "SELECT md5(coalesce(string_agg(scorecard || ref || rule || passed || "
            "coalesce(reason, ''), ',' ORDER BY scorecard, ref, rule), '')) "
            "FROM scorecard_results").fetchone()[0]
    return f"{parts[0]}:{parts[1]}:{commits}:{scores}"


_ENTITY_QUERY = """
SELECT ref, kind, namespace, name, title, description, owner, lifecycle, type, tags, path,
       line, end_line, CAST(created_at AS VARCHAR), CAST(updated_at AS VARCHAR), created_by,
       CAST(labels AS VARCHAR), CAST(annotations AS VARCHAR), CAST(spec AS VARCHAR),
       CAST(metadata AS VARCHAR)
FROM entities ORDER BY path, line
"""


def load_site_data(index_path: Path) -> SiteData:
    """Read entities, relations and file activity from the index (read-only connection)."""
    con = duckdb.connect(str(index_path), read_only=True)
    try:
        entities: dict[str, EntityRow] = {}
        for row in con.execute(_ENTITY_QUERY).fetchall():
            entities[row[0]] = EntityRow(
                ref=row[0], kind=row[1] or "", namespace=row[2] or "", name=row[3] or "",
                title=row[4] or "", description=row[5] or "", owner=row[6] or "",
                lifecycle=row[7] or "", type=row[8] or "", tags=list(row[9] or []),
                path=row[10] or "", line=row[11] or 1, end_line=row[12] or row[11] or 1,
                created_at=_text(row[13]), updated_at=_text(row[14]), created_by=row[15] or "",
                labels_json=row[16] or "", annotations_json=row[17] or "",
                spec_json=row[18] or "", metadata_json=row[19] or "",
            )
        outgoing: dict[str, list[tuple[str, str]]] = defaultdict(list)
        incoming: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for source, type_, target in con.execute(
            "SELECT source, type, target FROM relations ORDER BY source, type, target"
        ).fetchall():
            outgoing[source].append((type_, target))
            incoming[target].append((type_, source))
        commits: dict[str, list[Commit]] = defaultdict(list)
        if "file_commits" in _tables(con):
            for path, commit, author, when, message in con.execute(
                "SELECT path, commit, author_name, CAST(committed_at AS VARCHAR), message"
                " FROM file_commits ORDER BY path, committed_at DESC"
            ).fetchall():
                bucket = commits[path]
                if len(bucket) < MAX_COMMITS_PER_FILE:
                    bucket.append(Commit(commit or "", author or "", when or "",
                                         (message or "").split("\n", 1)[0]))
        cards = []
        if "scorecard_levels" in _tables(con):
            cards = [read_scores.scorecard(con, card["name"], SCORECARD_PAGE_ENTITIES)
                     for card in read_scores.scorecards(con)]
        return SiteData(
            entities=entities, outgoing=dict(outgoing), incoming=dict(incoming),
            commits=dict(commits), scorecards=cards,
        )
    finally:
        con.close()
