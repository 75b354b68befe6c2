"""The store's tables on both backends: a SQLite file and a real PostgreSQL database.

Every test here takes `any_store`, so it runs once per backend; the migration tests at the
end are PostgreSQL's own (its version table and advisory lock).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from runner.auth import accounts
from runner.auth.ratelimit import LoginLimiter
from runner.store import (
    apikeys,
    audit,
    history,
    login_failures,
    pg_schema,
    runs,
    schema,
    sessions,
    users,
)
from runner.store import settings as plugin_rows
from runner.store.db import StoreError
from runner.store.pg import PgStore, shown_url, translate
from runner.store.secrets import SecretBox


def test_users_are_unique_case_insensitively_and_found_either_way(any_store):
    made = users.create(any_store, username="Alice", role="developer", password_hash="h")
    assert users.by_name(any_store, "alice").id == made.id
    assert users.by_name(any_store, "ALICE").username == "Alice"
    with pytest.raises(users.UserExists):
        users.create(any_store, username="aLiCe", role="viewer", password_hash="h")
    assert [u.username for u in users.list_all(any_store)] == ["Alice"]
    assert users.count_with_role(any_store, "developer") == 1
    assert users.by_id(any_store, made.id).public()["role"] == "developer"


def test_login_failures_are_counted_by_every_process_of_the_store(any_store, tmp_path):
    """Two limiters on one store (two workers or replicas) count the same failures."""
    here, there = LoginLimiter(any_store, max_failures=3), LoginLimiter(any_store,
                                                                        max_failures=3)
    here.failed("Eve", "10.0.0.1")
    there.failed("eve", "10.0.0.1")
    assert here.retry_after("EVE", "10.0.0.1") == 0
    here.failed("eve", "10.0.0.1")
    assert 0 < there.retry_after("eve", "10.0.0.1") <= 300
    assert there.retry_after("eve", "10.0.0.2") == 0
    there.succeeded("eve", "10.0.0.1")
    assert here.retry_after("eve", "10.0.0.1") == 0
    old = LoginLimiter(any_store, max_failures=1, window=0.05)
    old.failed("frank", "10.0.0.3")
    time.sleep(0.1)
    assert old.retry_after("frank", "10.0.0.3") == 0  # outside the window
    old.failed("grace", "10.0.0.3")  # and the old one is dropped on the way
    assert login_failures.since(any_store, "frank", "10.0.0.3", 0) == []


def test_sessions_live_expire_and_are_revoked(any_store):
    user = users.create(any_store, username="bob", role="viewer", password_hash="h")
    sessions.create(any_store, token_hash="live", user_id=user.id, lifetime=timedelta(hours=1))
    sessions.create(any_store, token_hash="old", user_id=user.id, lifetime=timedelta(hours=-1))
    assert sessions.user_id_for(any_store, "live") == user.id
    assert sessions.holder(any_store, "live")["username"] == "bob"
    assert sessions.user_id_for(any_store, "old") is None
    assert sessions.purge_expired(any_store) == 1
    assert sessions.revoke(any_store, "live") is True
    assert sessions.revoke(any_store, "live") is False


def test_api_keys_join_their_owner_and_cascade_with_it(any_store):
    owner = users.create(any_store, username="carol", role="admin", password_hash="h")
    key = apikeys.create(any_store, user_id=owner.id, name="ci", role="developer",
                         key_hash="kh", prefix="gantry_ab")
    apikeys.touch(any_store, key.id)
    assert apikeys.by_hash(any_store, "kh").last_used_at is not None
    assert apikeys.holder(any_store, key.id) == {
        "user_id": owner.id, "username": "carol", "role": "developer", "owner_role": "admin"}
    assert [k.id for k in apikeys.list_for(any_store, owner.id)] == [key.id]
    with any_store.transaction() as conn:
        conn.execute("DELETE FROM users WHERE id = ?", (owner.id,))
    assert apikeys.by_id(any_store, key.id) is None


def test_audit_is_newest_first_with_json_fields(any_store):
    for number in range(3):
        audit.record(any_store, user="dave", action="update", resource_type="entity",
                     resource_name=f"svc-{number}", ip="10.0.0.1",
                     before={"n": number}, after={"n": number + 1}, commit="abc")
    shown = audit.entries(any_store, limit=2)
    assert [e["resourceName"] for e in shown] == ["svc-2", "svc-1"]
    assert shown[0]["after"] == {"n": 3} and shown[0]["ipAddress"] == "10.0.0.1"
    assert audit.count(any_store) == 3


def test_history_moves_to_the_top_and_is_trimmed(any_store):
    for number in range(history.MAX_ENTRIES + 3):
        history.record(any_store, "u1", kind="service", namespace="default", name=f"s{number}")
    history.record(any_store, "u1", kind="service", namespace="default", name="s5")
    recent = history.recent(any_store, "u1")
    assert len(recent) == history.MAX_ENTRIES
    assert recent[0]["name"] == "s5"
    assert "s0" not in {r["name"] for r in recent}


def test_runs_compare_and_set_and_in_flight(any_store):
    runs.create(any_store, run_id="r1", action_name="deploy", action={"spec": {}},
                status="pending", phase="approval", inputs={"x": 1}, inputs_sealed="sealed",
                triggered_by="erin", started_at="2026-01-01T00:00:00.000Z")
    assert runs.update(any_store, "r1", only_if_phase=("approval",), phase="queued") is True
    assert runs.update(any_store, "r1", only_if_phase=("approval",), phase="done") is False
    runs.update(any_store, "r1", next_step_at=12.5, state={"k": [1, 2]})
    stored = runs.get(any_store, "r1")
    assert stored["phase"] == "queued" and stored["next_step_at"] == 12.5
    assert stored["state"] == {"k": [1, 2]}
    assert [r["id"] for r in runs.in_flight(any_store)] == ["r1"]
    assert runs.list_runs(any_store, action_name="deploy", status="pending")[0]["id"] == "r1"


def test_plugin_settings_and_sealed_secrets_round_trip(any_store):
    box = SecretBox("a-secret-key-of-enough-length")
    plugin_rows.put_config(any_store, "github", {"token": box.encrypt("ghp_x")}, "admin")
    plugin_rows.put_enabled(any_store, "github", True, "admin")
    saved = plugin_rows.get(any_store, "github")
    assert saved["enabled"] is True and box.decrypt(saved["config"]["token"]) == "ghp_x"
    plugin_rows.set_state(any_store, "gitops", lastPull="t1", count=2)
    plugin_rows.set_state(any_store, "gitops", count=3)
    assert plugin_rows.get_state(any_store, "gitops") == {"lastPull": "t1", "count": 3}


def test_a_failed_transaction_leaves_nothing(any_store):
    with pytest.raises(RuntimeError), any_store.transaction() as conn:
        conn.execute("INSERT INTO users (id, username, role, password_hash, created_at)"
                     " VALUES (?, ?, ?, ?, ?)", ("u9", "ghost", "viewer", "h", "now"))
        raise RuntimeError("refused half-way")
    assert users.by_name(any_store, "ghost") is None


def test_the_schema_is_at_the_latest_version(any_store):
    assert schema.schema_version(any_store) == schema.LATEST_VERSION


def test_both_dialects_know_the_same_number_of_migrations():
    assert len(pg_schema.STEPS) == len(schema.MIGRATIONS)


def test_placeholders_and_percent_signs_are_translated():
    assert translate("SELECT ? WHERE a LIKE '%x'") == "SELECT %s WHERE a LIKE '%%x'"
    assert shown_url("postgresql://u:pw@db:5432/g") == "postgresql://u:***@db:5432/g"


# -- PostgreSQL only: concurrent starts --------------------------------------------------------


def test_two_concurrent_upgraders_apply_each_step_once(pg_url):
    results: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def upgrade() -> None:
        store = schema.connect(pg_url)
        try:
            barrier.wait()
            results.append(schema.migrate(store))
        except BaseException as exc:
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(results) == [(0, schema.LATEST_VERSION),
                               (schema.LATEST_VERSION, schema.LATEST_VERSION)]
    store = PgStore(pg_url)
    try:
        rows = store.connection().execute(
            f"SELECT version FROM {pg_schema.VERSION_TABLE}").fetchall()
        assert [r[0] for r in rows] == [schema.LATEST_VERSION]
    finally:
        store.close()


def test_the_first_admin_is_created_once_by_replicas_starting_together(pg_url):
    schema.open_store(pg_url).close()
    stores = [PgStore(pg_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    answers: list[bool] = []
    failures: list[BaseException] = []

    def start(store: PgStore) -> None:
        try:
            barrier.wait()
            answers.append(accounts.ensure_admin(store, "first-admin-password"))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert failures == [] and answers == [True] * 4
        assert users.count_with_role(stores[0], "admin") == 1
    finally:
        for store in stores:
            store.close()


def test_a_database_from_a_newer_gantry_is_refused(pg_url):
    store = schema.open_store(pg_url)
    try:
        with store.transaction() as conn:
            conn.execute(f"UPDATE {pg_schema.VERSION_TABLE} SET version = 99")
        with pytest.raises(StoreError, match="newer Gantry"):
            schema.migrate(store)
    finally:
        store.close()


def test_an_unreachable_database_is_a_clear_store_error(tmp_path):
    with pytest.raises(StoreError, match="cannot connect to the database"):
        PgStore(f"postgresql://nobody@/none?host={tmp_path}&port=1", timeout=1.0)


def test_both_backends_have_the_same_tables_and_columns(tmp_path, pg_url):
    """`pg_schema` writes every table again in PostgreSQL's words: the two must not drift."""
    sqlite_store, pg_store = schema.open_store(tmp_path / "gantry.db"), schema.open_store(pg_url)
    try:
        conn = sqlite_store.connection()
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'").fetchall()]
        in_sqlite = {table: {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                     for table in tables}
        rows = pg_store.connection().execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> ?",
            (pg_schema.VERSION_TABLE,)).fetchall()
        in_pg: dict[str, set[str]] = {}
        for table, column in rows:
            in_pg.setdefault(table, set()).add(column)
        assert in_pg == in_sqlite
        assert schema.schema_version(sqlite_store) == schema.schema_version(pg_store)
    finally:
        sqlite_store.close()
        pg_store.close()
