"""The index file: its schema, the content-hash cache, atomic replacement and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from generator.index.build import build_index, current_index
from generator.index.schema import COLUMNS, INDEXES, SCHEMA_VERSION, IndexUnusable, open_index

from .conftest import document, write, write_small

DOCUMENTED = {
    "entities": ["ref", "kind", "namespace", "name", "title", "description", "owner",
                 "lifecycle", "type", "tags", "labels", "annotations", "spec", "metadata",
                 "data", "path", "line", "end_line", "created_at", "updated_at", "created_by",
                 "last_commit", "name_words", "title_words", "description_words",
                 "search_text"],
    "relations": ["source", "type", "target"],
    "declared_refs": ["source", "type", "kind", "namespace", "name"],
    "file_commits": ["path", "commit", "author_name", "author_email", "committed_at",
                     "message"],
    "files": ["path", "sha256", "size", "mtime_ns"],
    "scorecard_results": ["scorecard", "ref", "rule", "passed", "reason"],
    "scorecard_levels": ["scorecard", "ref", "level", "score"],
    "meta": ["key", "value"],
}


def columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall())


def test_schema_matches_the_documentation(con):
    for table, names in DOCUMENTED.items():
        assert list(columns(con, table)) == names
    types = columns(con, "entities")
    assert types["tags"] == "VARCHAR[]"
    assert {types[c] for c in ("labels", "annotations", "spec", "metadata", "data")} == {"JSON"}
    assert types["created_at"] == types["updated_at"] == "TIMESTAMP"
    docs = (Path(__file__).resolve().parents[2] / "docs" / "index.md").read_text()
    for table, names in COLUMNS.items():
        assert f"`{table}`" in docs
        for name, _ in names:
            assert f"`{name}`" in docs, f"{table}.{name} is not documented"
    indexes = con.execute("SELECT index_name, table_name, sql FROM duckdb_indexes() "
                          "ORDER BY index_name").fetchall()
    assert [(name, table) for name, (table, _) in sorted(INDEXES.items())] == \
        [row[:2] for row in indexes]
    assert all(INDEXES[name][1] in sql.partition(" ON ")[2] for name, _, sql in indexes)
    for table, column in INDEXES.values():
        assert f"`{table}({column})`" in docs, f"the index on {table}({column}) is not documented"


def test_entity_row(con):
    row = con.execute("SELECT ref, kind, namespace, name, title, owner, lifecycle, type, tags, "
                      "labels, annotations, spec ->> '$.type', path, line, end_line, "
                      "data ->> '$.apiVersion' FROM entities "
                      "WHERE ref = 'service:default/payment-api'").fetchone()
    assert row[:9] == ("service:default/payment-api", "Service", "default", "payment-api",
                       "Payment API", "payments-team", "production", "backend",
                       ["payments", "pci"])
    assert json.loads(row[9]) == {"tier": "1"} and json.loads(row[10]) == {"gantry.io/x": "y"}
    assert row[11:13] == ("backend", "Service/payment-api.yaml")
    assert row[13] == 1 and row[14] > row[13] and row[15] == "gantry.io/v1"
    second = con.execute("SELECT line FROM entities WHERE name = 'ledger-wiki'").fetchone()[0]
    assert second > 1  # the second document of its file


def test_relations_cover_every_edge_type(con):
    types = {r[0] for r in con.execute("SELECT DISTINCT type FROM relations").fetchall()}
    assert types == {"dependsOn", "deployedIn", "providesApi", "consumesApi", "ownedBy",
                     "documents"}
    targets = {r[0] for r in con.execute(
        "SELECT target FROM relations WHERE source = 'service:shop/cart-api'").fetchall()}
    assert targets == {"service:default/payment-api", "team:default/payments-team"}


def test_meta(con, shared):
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["built_at"].endswith("Z") and len(meta["git_commit"]) == 40


def test_unchanged_catalog_does_almost_nothing(small):
    before = small.index.stat()
    stats = build_index(small.root, small.index)
    assert stats.unchanged and stats.files_reread == 0 and stats.changed_refs == set()
    assert stats.entities == 14
    after = small.index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_touched_file_is_hashed_once_then_cached(small):
    path = small.root / "Team/platform-team.yaml"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    first = build_index(small.root, small.index)
    assert first.unchanged and first.files_reread == 1
    second = build_index(small.root, small.index)
    assert second.unchanged and second.files_reread == 0


def test_changed_file_reports_changed_refs(small):
    write(small.root, "Team/platform-team.yaml",
          document("Team", "platform-team", title="Platform Engineering"))
    stats = build_index(small.root, small.index)
    assert not stats.unchanged
    assert stats.changed_refs == {"team:default/platform-team"}
    write(small.root, "Service/checkout-web.yaml", document(
        "Service", "checkout-web", owner="platform-team",
        spec={"consumesApis": ["ledger-api"]}))
    stats = build_index(small.root, small.index)
    assert stats.changed_refs == {"service:default/checkout-web", "api:default/payment-events",
                                  "api:default/ledger-api"}


def test_missing_catalog(tmp_path):
    with pytest.raises(FileNotFoundError, match="catalog folder not found"):
        build_index(tmp_path / "nope", tmp_path / "out")


@pytest.mark.parametrize("content", [b"this is not a database at all\n" * 100, b""])
def test_corrupt_index_is_rebuilt_with_a_note(small, content):
    small.index.write_bytes(content)
    stats = build_index(small.root, small.index)
    assert stats.entities == 14 and not stats.unchanged
    assert any("was not reused" in note for note in stats.notes)
    open_index(small.index).close()


def test_foreign_duckdb_is_rebuilt(small):
    small.index.unlink()
    con = duckdb.connect(str(small.index))
    con.execute("CREATE TABLE something (x INTEGER)")
    con.close()
    stats = build_index(small.root, small.index)
    assert any("not a Gantry index" in note for note in stats.notes)
    assert stats.entities == 14


def test_older_schema_version_is_rebuilt_not_misread(small):
    con = duckdb.connect(str(small.index))
    con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    for name in INDEXES:  # an older index had no ART indexes, and fewer columns
        con.execute(f"DROP INDEX {name}")
    con.execute("ALTER TABLE entities DROP COLUMN name_words")
    con.close()
    with pytest.raises(IndexUnusable, match="schema version 0"):
        open_index(small.index)
    assert current_index(small.root, small.index) is None
    stats = build_index(small.root, small.index)
    assert any("schema version 0" in note for note in stats.notes)
    with open_index(small.index) as con:
        assert "name_words" in columns(con, "entities")


def test_written_atomically_without_leftovers(tmp_path):
    root = write_small(tmp_path / "catalog")
    out = tmp_path / "out"
    build_index(root, out)
    assert sorted(p.name for p in out.iterdir()) == ["catalog.duckdb"]


def test_output_under_a_file_is_an_os_error(small):
    blocker = small.index.parent / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OSError):
        build_index(small.root, blocker / "catalog.duckdb")
    assert blocker.read_text() == "a file, not a folder"


def test_outside_git_builds_with_a_note(tmp_path):
    root = write_small(tmp_path / "catalog")
    stats = build_index(root, tmp_path / "out")
    assert stats.entities == 14
    assert any("not inside a Git repository" in note for note in stats.notes)
    with open_index(tmp_path / "out" / "catalog.duckdb") as con:
        row = con.execute("SELECT created_at, created_by FROM entities LIMIT 1").fetchone()
        assert row[0] is not None and row[1] is None


def test_duplicates_and_nameless_documents_are_skipped(tmp_path):
    root = tmp_path / "catalog"
    write(root, "a.yaml", document("Team", "dup", title="first"))
    write(root, "b.yaml", document("Team", "dup", title="second"),
          {"kind": "Team", "metadata": {}})
    stats = build_index(root, tmp_path / "out")
    assert stats.entities == 1
    with open_index(tmp_path / "out" / "catalog.duckdb") as con:
        assert con.execute("SELECT title FROM entities").fetchall() == [("first",)]
