"""The engine against a real store (SQLite and PostgreSQL) and a real webhook receiver."""

import threading
import time

import pytest

from runner.actions.engine import Engine, NotAwaitingApproval, Sealer
from runner.store import runs
from runner.store.secrets import SecretBox

from .fakes.webhook_receiver import WebhookReceiver


def webhook_action(url: str, **permissions) -> dict:
    return {
        "apiVersion": "gantry.io/v1",
        "kind": "Action",
        "metadata": {"name": "notify"},
        "spec": {"type": "webhook", "config": {"url": url}, "permissions": permissions},
    }


class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def __call__(self, kind, payload):
        with self.lock:
            self.events.append((kind, payload["status"]))


@pytest.fixture
def store(any_store):
    return any_store


def make_engine(store, publish=None, workers=4):
    box = SecretBox("engine-test-secret-key-0123")
    return Engine(store, Sealer(box.encrypt, box.decrypt), publish=publish, workers=workers)


def wait_status(store, run_id, statuses=("success", "failed"), timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = runs.get(store, run_id)
        if run["status"] in statuses:
            return run
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} still {runs.get(store, run_id)['status']}")


def test_run_goes_pending_running_success_and_is_published(store):
    recorder = Recorder()
    engine = make_engine(store, recorder)
    engine.start()
    try:
        with WebhookReceiver() as receiver:
            run = engine.submit(webhook_action(receiver.url), {"a": 1}, "alice")
            assert run["status"] == "pending" and run["triggeredBy"] == "alice"
            done = wait_status(store, run["id"])
    finally:
        engine.stop()
    assert done["status"] == "success" and done["outputs"]["statusCode"] == 200
    assert done["completed_at"] and done["phase"] == "done"
    assert recorder.events == [
        ("action.run.created", "pending"),
        ("action.run.updated", "running"),
        ("action.run.updated", "success"),
    ]
    assert receiver.requests[0].json() == {"a": 1}


def test_secret_looking_inputs_are_sealed_not_shown(store):
    engine = make_engine(store)
    engine.start()
    try:
        with WebhookReceiver() as receiver:
            run = engine.submit(webhook_action(receiver.url), {"apiToken": "tok-77aa"}, "bob")
            wait_status(store, run["id"])
    finally:
        engine.stop()
    assert receiver.requests[0].json() == {"apiToken": "tok-77aa"}
    assert "tok-77aa" not in str(runs.get(store, run["id"])["inputs"])
    raw = store.connection().execute("SELECT * FROM action_runs").fetchone()
    assert all("tok-77aa" not in str(value) for value in tuple(raw))


def test_approval_holds_the_run_until_decided(store):
    engine = make_engine(store, workers=1)
    engine.start()
    try:
        with WebhookReceiver() as receiver:
            action = webhook_action(f"{receiver.url}/held", requireApproval=True,
                                    approvers=["carol"])
            run = engine.submit(action, {}, "alice")
            # a run submitted later on the one worker: once it has been delivered, the
            # worker has passed the point where the held run would have been sent
            marker = engine.submit(webhook_action(f"{receiver.url}/marker"), {}, "alice")
            assert wait_status(store, marker["id"])["status"] == "success"
            assert [r.path for r in receiver.requests] == ["/marker"]
            assert runs.get(store, run["id"])["status"] == "pending"
            decided = engine.decide(run["id"], "carol", True, "ship it")
            assert decided["approvals"][0]["user"] == "carol"
            done = wait_status(store, run["id"])
            with pytest.raises(NotAwaitingApproval):
                engine.decide(run["id"], "carol", False, None)
    finally:
        engine.stop()
    assert done["status"] == "success"
    assert [r.path for r in receiver.requests] == ["/marker", "/held"]


def test_rejection_fails_the_run_with_the_reason(store):
    engine = make_engine(store)
    engine.start()
    try:
        action = webhook_action("http://127.0.0.1:9/never", requireApproval=True)
        run = engine.submit(action, {}, "alice")
        engine.decide(run["id"], "carol", False, "not during the freeze")
    finally:
        engine.stop()
    done = runs.get(store, run["id"])
    assert done["status"] == "failed"
    assert done["error"] == "rejected by carol: not during the freeze"


def test_many_waiting_runs_use_a_fixed_number_of_threads(store):
    engine = make_engine(store, workers=4)
    engine.start()

    def engine_threads():
        return sum(1 for t in threading.enumerate() if t.name.startswith("gantry-action-"))

    try:
        with WebhookReceiver(fail_times=60, fail_status=429, retry_after="1") as receiver:
            ids = [engine.submit(webhook_action(receiver.url), {"n": n}, "alice")["id"]
                   for n in range(60)]
            receiver.wait_for(60)
            waiting = [runs.get(store, i)["phase"] for i in ids].count("waiting")
            peak = engine_threads()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                peak = max(peak, engine_threads())
                if all(runs.get(store, i)["status"] == "success" for i in ids):
                    break
                time.sleep(0.05)
    finally:
        engine.stop()
    assert waiting > 30  # most runs were in backoff at the same time
    assert all(runs.get(store, i)["status"] == "success" for i in ids)
    assert peak == 5  # 4 workers and the timer, whatever the number of runs
    assert engine.thread_count == 0


def test_restart_resumes_a_run_waiting_in_backoff(store):
    with WebhookReceiver(fail_times=1, fail_status=503, retry_after="1") as receiver:
        first = make_engine(store)
        first.start()
        run = first.submit(webhook_action(receiver.url), {}, "alice")
        receiver.wait_for(1)
        deadline = time.monotonic() + 5
        while runs.get(store, run["id"])["phase"] != "waiting" and time.monotonic() < deadline:
            time.sleep(0.02)
        first.stop()  # as if the process died: the run is left in the store as waiting
        assert runs.get(store, run["id"])["status"] == "running"
        second = make_engine(store)
        second.start()
        try:
            done = wait_status(store, run["id"])
        finally:
            second.stop()
    assert done["status"] == "success" and done["outputs"]["attempts"] == 2
    keys = {request.headers["Idempotency-Key"] for request in receiver.requests}
    assert len(keys) == 1


def test_an_interrupted_one_step_run_fails_explicitly_after_a_restart(store):
    box = SecretBox("engine-test-secret-key-0123")
    action = {"kind": "Action", "metadata": {"name": "flux"},
              "spec": {"type": "flux-update", "config": {"url": "http://127.0.0.1:9/hook/x"}}}
    runs.create(store, run_id="r-1", action_name="flux", action=action, status="running",
                phase="executing", inputs={}, inputs_sealed=box.encrypt("{}"),
                triggered_by="alice", started_at="2026-01-01T00:00:00Z")
    engine = make_engine(store)
    engine.start()
    try:
        done = wait_status(store, "r-1")
    finally:
        engine.stop()
    assert done["status"] == "failed" and "restarted" in done["error"]


def test_unknown_executor_type_fails_the_run(store):
    engine = make_engine(store)
    engine.start()
    try:
        action = {"kind": "Action", "metadata": {"name": "odd"}, "spec": {"type": "teleport"}}
        run = engine.submit(action, {}, "alice")
        done = wait_status(store, run["id"])
    finally:
        engine.stop()
    assert done["status"] == "failed" and "teleport" in done["error"]


def test_a_changed_secret_key_fails_in_flight_runs_with_a_clear_error(store):
    other = SecretBox("a-different-secret-key-999")
    runs.create(store, run_id="r-2", action_name="notify",
                action=webhook_action("http://127.0.0.1:9/x"), status="pending", phase="queued",
                inputs={}, inputs_sealed=other.encrypt("{}"), triggered_by="alice",
                started_at="2026-01-01T00:00:00Z")
    engine = make_engine(store)
    engine.start()
    try:
        done = wait_status(store, "r-2")
    finally:
        engine.stop()
    assert done["status"] == "failed" and "GANTRY_SECRET_KEY" in done["error"]
