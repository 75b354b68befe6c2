"""Two engines on one real PostgreSQL store, as two runner replicas: each run is claimed and
executed once, and a run left behind by a replica that stopped is taken over after its lease
runs out and finished by the other."""

from __future__ import annotations

import time
from collections import Counter

from runner.actions.engine import Engine, Sealer
from runner.store import runs
from runner.store.schema import open_store
from runner.store.secrets import SecretBox

from .fakes.webhook_receiver import WebhookReceiver
from .test_engine import wait_status, webhook_action

BOX = SecretBox("engine-test-secret-key-0123")


def replica(url: str, name: str, lease: float = 1.5) -> tuple[Engine, object]:
    store = open_store(url)
    return Engine(store, Sealer(BOX.encrypt, BOX.decrypt), workers=4, owner=name,
                  lease_seconds=lease), store


def test_two_replicas_execute_each_unclaimed_run_once(pg_url):
    with WebhookReceiver() as receiver:
        seed = open_store(pg_url)
        action = webhook_action(receiver.url)
        ids = [f"run-{n}" for n in range(30)]
        for run_id in ids:  # queued by a replica that died before starting them
            runs.create(seed, run_id=run_id, action_name="notify", action=action,
                        status="pending", phase="queued", inputs={"n": run_id},
                        inputs_sealed=BOX.encrypt(f'{{"n": "{run_id}"}}'), triggered_by="alice",
                        started_at="2026-01-01T00:00:00.000Z", owner="gone:1", lease_until=0.0)
        first, first_store = replica(pg_url, "a:1")
        second, second_store = replica(pg_url, "b:1")
        first.start()
        second.start()
        try:
            done = [wait_status(seed, run_id) for run_id in ids]
            time.sleep(1.0)  # a second execution would arrive now
        finally:
            first.stop()
            second.stop()
        deliveries = Counter(request.json()["n"] for request in receiver.requests)
        owners = Counter(runs.get(seed, run_id)["owner"] for run_id in ids)
        for store in (seed, first_store, second_store):
            store.close()
    assert all(run["status"] == "success" for run in done)
    assert deliveries == Counter({run_id: 1 for run_id in ids})
    assert set(owners) <= {"a:1", "b:1"} and sum(owners.values()) == len(ids)


def test_a_run_of_a_stopped_replica_is_taken_over_after_its_lease(pg_url):
    with WebhookReceiver(fail_times=1, fail_status=503, retry_after="1") as receiver:
        first, first_store = replica(pg_url, "a:1")
        second, second_store = replica(pg_url, "b:1")
        first.start()
        second.start()
        try:
            run = first.submit(webhook_action(receiver.url), {}, "alice")
            receiver.wait_for(1)
            deadline = time.monotonic() + 5
            while (runs.get(first_store, run["id"])["phase"] != "waiting"
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            first.stop()  # replica A dies: the run stays waiting, its lease is not renewed
            assert runs.get(second_store, run["id"])["owner"] == "a:1"
            done = wait_status(second_store, run["id"], timeout=20)
        finally:
            second.stop()
            first_store.close()
        finished = runs.get(second_store, run["id"])
        second_store.close()
    assert done["status"] == "success" and done["outputs"]["attempts"] == 2
    assert finished["owner"] == "b:1"
    assert len(receiver.requests) == 2  # the failed first attempt and B's retry, nothing more
    assert len({request.headers["Idempotency-Key"] for request in receiver.requests}) == 1


def test_a_replica_that_lost_its_lease_records_nothing_more(pg_url):
    engine, store = replica(pg_url, "a:1")
    runs.create(store, run_id="r-lost", action_name="notify", action=webhook_action("http://x"),
                status="running", phase="waiting", inputs={}, inputs_sealed=BOX.encrypt("{}"),
                triggered_by="alice", started_at="2026-01-01T00:00:00.000Z", owner="b:1",
                lease_until=time.time() + 60)
    try:
        assert runs.update(store, "r-lost", only_if_owner="a:1", phase="done") is False
        assert runs.take_over(store, "a:1", time.time() + 5, time.time()) == []
        assert runs.get(store, "r-lost")["phase"] == "waiting"
    finally:
        store.close()
