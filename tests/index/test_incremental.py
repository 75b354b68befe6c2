"""Incremental updates: only changed files are re-read, edges are re-resolved, and the
result is the same index a full build would write."""

from __future__ import annotations

import duckdb
import pytest

from generator.index.build import build_index
from generator.index.graph import graph
from generator.index.incremental import update_files
from generator.index.schema import IndexUnusable

from .conftest import Git, document, write

PAYMENT = "service:default/payment-api"


def edges(index) -> set[tuple[str, str, str]]:
    with duckdb.connect(str(index), read_only=True) as con:
        return set(con.execute("SELECT source, type, target FROM relations").fetchall())


def snapshot(index) -> tuple:
    with duckdb.connect(str(index), read_only=True) as con:
        entities = con.execute(
            "SELECT * EXCLUDE (created_at, updated_at) FROM entities ORDER BY ref").fetchall()
        relations = con.execute("SELECT * FROM relations ORDER BY ALL").fetchall()
        declared = con.execute("SELECT * FROM declared_refs ORDER BY ALL").fetchall()
        files = con.execute("SELECT path, sha256, size FROM files ORDER BY path").fetchall()
    return entities, relations, declared, files


def assert_same_as_full_build(built, tmp_path):
    fresh = tmp_path / "fresh" / "catalog.duckdb"
    build_index(built.root, fresh)
    for updated, full in zip(snapshot(built.index), snapshot(fresh), strict=True):
        assert [r for r in updated if r not in full] == [r for r in full if r not in updated]


def test_changed_title(small, tmp_path):
    write(small.root, "Service/payment-api.yaml", document(
        "Service", "payment-api", title="Payments, renamed", owner="payments-team",
        spec={"dependsOn": [{"kind": "Infrastructure", "name": "postgres-payments"}]}))
    changed = update_files(small.index, small.root, ["Service/payment-api.yaml"])
    assert PAYMENT in changed
    # edges it no longer declares change their targets' pages too
    assert {"environment:default/production", "api:default/ledger-api"} <= changed
    assert "service:default/billing-worker" not in changed
    with duckdb.connect(str(small.index), read_only=True) as con:
        assert con.execute("SELECT title FROM entities WHERE ref = ?",
                           [PAYMENT]).fetchone() == ("Payments, renamed",)
    assert_same_as_full_build(small, tmp_path)
    assert build_index(small.root, small.index).unchanged


def test_deleted_file_drops_edges_from_other_entities(small, tmp_path):
    (small.root / "Service/payment-api.yaml").unlink()
    changed = update_files(small.index, small.root, ["Service/payment-api.yaml"])
    assert {PAYMENT, "service:default/billing-worker", "service:shop/cart-api",
            "documentation:default/payment-runbook", "team:default/payments-team"} <= changed
    assert not [e for e in edges(small.index) if PAYMENT in (e[0], e[2])]
    assert_same_as_full_build(small, tmp_path)


def test_reference_becomes_resolvable(small, tmp_path):
    write(small.root, "Service/fraud-check.yaml", document(
        "Service", "fraud-check", owner="payments-team",
        spec={"dependsOn": [{"kind": "Service", "name": "risk-engine"}]}))
    update_files(small.index, small.root, ["Service/fraud-check.yaml"])
    assert not [e for e in edges(small.index) if e[2] == "service:default/risk-engine"]
    write(small.root, "Service/risk-engine.yaml", document("Service", "risk-engine"))
    changed = update_files(small.index, small.root, ["Service/risk-engine.yaml"])
    assert changed == {"service:default/risk-engine", "service:default/fraud-check"}
    assert ("service:default/fraud-check", "dependsOn",
            "service:default/risk-engine") in edges(small.index)
    assert_same_as_full_build(small, tmp_path)


def test_renamed_entity_re_resolves_referrers(small, tmp_path):
    write(small.root, "Service/payment-api.yaml", document("Service", "payments-api",
                                                           owner="payments-team"))
    changed = update_files(small.index, small.root, ["Service/payment-api.yaml"])
    assert {PAYMENT, "service:default/payments-api", "service:default/billing-worker"} <= changed
    assert ("service:default/billing-worker", "dependsOn", PAYMENT) not in edges(small.index)
    assert_same_as_full_build(small, tmp_path)


def test_closer_namespace_takes_over(small, tmp_path):
    write(small.root, "shop/payment-api.yaml", document("Service", "payment-api",
                                                        namespace="shop"))
    changed = update_files(small.index, small.root, ["shop/payment-api.yaml"])
    assert "service:shop/cart-api" in changed and PAYMENT in changed
    assert ("service:shop/cart-api", "dependsOn", "service:shop/payment-api") in \
        edges(small.index)
    assert ("service:shop/cart-api", "dependsOn", PAYMENT) not in edges(small.index)
    assert_same_as_full_build(small, tmp_path)


def test_new_file_with_several_documents_and_a_duplicate(small, tmp_path):
    write(small.root, "more.yaml", document("Team", "new-team"),
          document("Team", "payments-team", title="a duplicate of an existing ref"))
    changed = update_files(small.index, small.root, ["more.yaml", "./more.yaml"])
    assert changed == {"team:default/new-team"}
    with duckdb.connect(str(small.index), read_only=True) as con:
        titles = con.execute("SELECT title FROM entities WHERE name = 'payments-team'")
        assert titles.fetchall() == [("Payments Team",)]


def test_git_metadata_of_the_changed_file(small):
    path = write(small.root, "Team/platform-team.yaml", document("Team", "platform-team"))
    update_files(small.index, small.root, ["Team/platform-team.yaml"])
    with duckdb.connect(str(small.index), read_only=True) as con:
        created_by, updated = con.execute(
            "SELECT created_by, epoch(updated_at) FROM entities "
            "WHERE name = 'platform-team'").fetchone()
        commits = con.execute("SELECT count(*) FROM file_commits "
                              "WHERE path = 'Team/platform-team.yaml'").fetchone()[0]
    assert created_by == "Alice" and commits == 1
    assert abs(updated - path.stat().st_mtime) < 1


def git_columns(index, paths: list[str]) -> tuple[list, list]:
    marks = ", ".join("?" * len(paths))
    with duckdb.connect(str(index), read_only=True) as con:
        rows = con.execute("SELECT ref, created_at, created_by, updated_at, last_commit "
                           f"FROM entities WHERE path IN ({marks}) ORDER BY ref",
                           paths).fetchall()
        commits = con.execute("SELECT path, commit, author_name, committed_at, message "
                              f"FROM file_commits WHERE path IN ({marks}) "
                              "ORDER BY path, committed_at DESC", paths).fetchall()
    return rows, commits


def test_git_metadata_after_later_commits_equals_a_full_build(small, tmp_path):
    """Updates read only the commits after the indexed one and complete them from the
    index; the result must be what reading the whole history gives."""
    repo = Git(small.root.parent)
    steps = [
        ("Bob", "2024-02-01T10:00:00", "Service/payment-api.yaml",
         document("Service", "payment-api", title="Edited by Bob", owner="payments-team")),
        ("Carol", "2024-03-01T10:00:00", "Service/new-one.yaml",
         document("Service", "new-one", owner="payments-team")),
        ("Dan", "2024-04-01T10:00:00", "Service/new-one.yaml",
         document("Service", "new-one", title="Second commit", owner="payments-team")),
    ]
    for number, (author, date, rel, doc) in enumerate(steps):
        write(small.root, rel, doc)
        repo.commit(f"step {number}", author, f"{author.lower()}@example.com", date)
        update_files(small.index, small.root, [rel])
        fresh = tmp_path / f"fresh-{number}" / "catalog.duckdb"
        build_index(small.root, fresh)
        assert git_columns(small.index, [rel]) == git_columns(fresh, [rel])
    rows, commits = git_columns(small.index, ["Service/payment-api.yaml"])
    assert rows[0][2] == "Alice" and [c[2] for c in commits] == ["Bob", "Alice"]
    rows, commits = git_columns(small.index, ["Service/new-one.yaml"])
    assert rows[0][2] == "Carol" and [c[2] for c in commits] == ["Dan", "Carol"]

    # history rewritten under the index: the indexed commit is no longer an ancestor
    write(small.root, "Service/new-one.yaml",
          document("Service", "new-one", title="Amended", owner="payments-team"))
    repo.run("add", "-A")
    repo.run("commit", "-q", "--amend", "-m", "amended", env={
        "GIT_AUTHOR_NAME": "Erin", "GIT_AUTHOR_EMAIL": "erin@example.com",
        "GIT_AUTHOR_DATE": "2024-05-01T10:00:00 +0000", "GIT_COMMITTER_NAME": "Erin",
        "GIT_COMMITTER_EMAIL": "erin@example.com",
        "GIT_COMMITTER_DATE": "2024-05-01T10:00:00 +0000"})
    update_files(small.index, small.root, ["Service/new-one.yaml"])
    build_index(small.root, tmp_path / "fresh-amended")
    assert git_columns(small.index, ["Service/new-one.yaml"]) == git_columns(
        tmp_path / "fresh-amended" / "catalog.duckdb", ["Service/new-one.yaml"])


def test_many_files_at_once(small, tmp_path):
    """More paths than fit a literal IN list: the lookups take the list form."""
    paths = []
    for number in range(12):
        rel = f"Service/bulk-{number}.yaml"
        write(small.root, rel, document("Service", f"bulk-{number}", owner="platform-team",
                                        spec={"dependsOn": [{"kind": "Service",
                                                             "name": "payment-api"}]}))
        paths.append(rel)
    (small.root / "Service/checkout-web.yaml").unlink()
    changed = update_files(small.index, small.root, [*paths, "Service/checkout-web.yaml"])
    assert {f"service:default/bulk-{n}" for n in range(12)} < changed
    assert "service:default/checkout-web" in changed
    assert_same_as_full_build(small, tmp_path)


def test_paths_that_cannot_be_catalog_files_are_ignored(small):
    (small.root / "notes.txt").write_text("not yaml")
    assert update_files(small.index, small.root, []) == set()
    assert update_files(small.index, small.root, ["/etc/passwd", "../x.yaml"]) == set()
    assert update_files(small.index, small.root, ["notes.txt"]) == set()


def test_unusable_index_raises(small):
    small.index.write_bytes(b"garbage" * 1000)
    with pytest.raises(IndexUnusable):
        update_files(small.index, small.root, ["Team/platform-team.yaml"])
    with pytest.raises(IndexUnusable):
        update_files(small.index.parent / "missing.duckdb", small.root, ["x.yaml"])


def test_graph_sees_the_update(small):
    with duckdb.connect(str(small.index), read_only=True) as con:
        before = graph(con, "service/billing-worker", direction="out")
    assert "service/payment-api" in {n["id"] for n in before["nodes"]}
    (small.root / "Service/payment-api.yaml").unlink()
    update_files(small.index, small.root, ["Service/payment-api.yaml"])
    with duckdb.connect(str(small.index), read_only=True) as con:
        after = graph(con, "service/billing-worker", direction="out")
    assert "service/payment-api" not in {n["id"] for n in after["nodes"]}
