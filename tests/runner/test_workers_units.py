"""The parts that let several worker processes share one clone: slots held by `flock`, a
write lock that excludes other holders, and events relayed over datagram sockets."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest

from runner.auth import accounts, tokens
from runner.catalog.workers import RefState, WorkerSlot, WriteLock
from runner.events import REVOKED, EventBus
from runner.store import apikeys as apikey_store
from runner.store import sessions as session_store
from runner.store.schema import open_store
from runner.worker_channel import MAX_MESSAGE_BYTES, WorkerChannel


def test_each_claim_takes_the_lowest_free_slot(tmp_path) -> None:
    first = WorkerSlot(tmp_path, 2).claim()
    second = WorkerSlot(tmp_path, 2).claim()
    assert (first.number, second.number) == (0, 1)
    assert first.leader and not second.leader
    with pytest.raises(RuntimeError, match="all 2 worker slots"):
        WorkerSlot(tmp_path, 2).claim(timeout=0.3)
    first.release()
    again = WorkerSlot(tmp_path, 2).claim(timeout=1)
    assert again.number == 0 and again.leader


def test_a_write_lock_waits_for_another_holder_of_the_same_file(tmp_path) -> None:
    path = tmp_path / "write.lock"
    held, other = WriteLock(path), WriteLock(path)
    order: list[str] = []
    with held:
        with held:  # reentrant in its own thread
            thread = threading.Thread(target=lambda: (other.acquire(), order.append("other"),
                                                      other.release()))
            thread.start()
            time.sleep(0.3)
            order.append("first done")
    thread.join(5)
    assert order == ["first done", "other"]


def test_the_ref_state_moves_with_the_branch_and_with_head(tmp_path) -> None:
    git_dir = tmp_path / ".git"
    (git_dir / "refs" / "heads").mkdir(parents=True)
    (git_dir / "HEAD").write_text("ref: refs/heads/main\n")
    branch = git_dir / "refs" / "heads" / "main"
    branch.write_text("a" * 40 + "\n")
    refs = RefState(git_dir)
    before = refs.current()
    assert refs.current() == before
    replacement = branch.with_name("main.lock")
    replacement.write_text("b" * 40 + "\n")
    replacement.replace(branch)  # as git moves a branch: a new file renamed over the old
    moved = refs.current()
    assert moved != before
    other = branch.with_name("other")
    other.write_text("c" * 40 + "\n")
    (git_dir / "HEAD").write_text("ref: refs/heads/other\n")  # a checkout of another branch
    assert refs.current() not in (before, moved)


def test_a_message_reaches_the_other_workers_and_not_the_sender(tmp_path) -> None:
    got: list[queue.Queue] = [queue.Queue() for _ in range(3)]
    channels = [WorkerChannel(tmp_path, slot, 4, got[slot].put).start() for slot in range(3)]
    try:
        channels[0].send('{"type": "entity.updated"}')  # slot 3 has no worker: skipped
        assert got[1].get(timeout=5) == '{"type": "entity.updated"}'
        assert got[2].get(timeout=5) == '{"type": "entity.updated"}'
        with pytest.raises(queue.Empty):
            got[0].get(timeout=0.3)
        channels[1].send("x" * (MAX_MESSAGE_BYTES + 1))  # too large: dropped, not sent cut
        channels[1].send("after")
        assert got[0].get(timeout=5) == "after"
    finally:
        for channel in channels:
            channel.close()


def test_channels_of_two_data_folders_do_not_meet(tmp_path) -> None:
    here, there = queue.Queue(), queue.Queue()
    one = WorkerChannel(tmp_path / "one", 0, 2, here.put).start()
    other = WorkerChannel(tmp_path / "two", 1, 2, there.put).start()
    try:
        one.send("hello")
        with pytest.raises(queue.Empty):
            there.get(timeout=0.3)
    finally:
        one.close()
        other.close()


def test_a_revocation_relayed_from_another_process_empties_the_credential_cache(tmp_path):
    """Another worker ended the session and the key in the store; the relayed revocations
    make this process stop accepting them at once, not after its cache's 5 seconds."""
    store = open_store(tmp_path / "gantry.db")
    try:
        owner = accounts.create_user(store, "dana", "password-123", "developer")
        token = accounts.start_session(store, owner).token
        key = accounts.create_api_key(store, owner, "ci", "viewer")
        assert accounts.user_for_session(store, token) is not None  # now cached here
        assert accounts.user_for_api_key(store, key.key) is not None
        session_store.revoke(store, tokens.token_hash(token))  # done by the other process
        apikey_store.delete(store, key.record.id)
        assert accounts.user_for_session(store, token) is not None  # the cache still says so
        bus = EventBus()
        bus.on_revoked(accounts.forget)
        for credential in (f"session:{tokens.token_hash(token)}", f"apikey:{key.record.id}"):
            bus.receive(json.dumps({"origin": "another-worker", "type": REVOKED,
                                    "credential": credential, "reason": "ended there"}))
        assert accounts.user_for_session(store, token) is None
        assert accounts.user_for_api_key(store, key.key) is None
    finally:
        store.close()
