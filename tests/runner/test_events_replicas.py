"""Two event buses on one real PostgreSQL, as two runner replicas: what one publishes, the
subscribers of both receive once; a long event survives NOTIFY's size limit; a revocation on
one ends the other's subscriptions of that credential."""

from __future__ import annotations

import pytest

from runner.app import relay_events
from runner.events import REVOKED, EventBus
from runner.store.schema import open_store


@pytest.fixture
def two_buses(pg_url):
    stores = [open_store(pg_url), open_store(pg_url)]
    buses = [EventBus(), EventBus()]
    for bus, store in zip(buses, stores, strict=True):
        relay_events(bus, store)
    yield buses
    for bus, store in zip(buses, stores, strict=True):
        bus.close()
        store.close()


def drain(subscription, timeout=0.5):
    messages = []
    while (message := subscription.get(timeout=timeout)) is not None:
        messages.append(message)
    return messages


def test_an_event_on_one_replica_reaches_the_subscribers_of_both_once(two_buses):
    first, second = two_buses
    here, there = first.subscribe(), second.subscribe()
    there_runs = second.subscribe()
    there_runs.subscribe("actions")
    first.publish("entity.updated", {"ref": "service:default/payments", "n": 1})
    second.publish("action.run.created", {"id": "run-1"})
    relayed = {"type": "entity.updated",
               "payload": {"ref": "service:default/payments", "n": 1}}
    got_there = drain(there, timeout=2)
    assert relayed in got_there
    assert sorted(m["type"] for m in got_there) == ["action.run.created", "entity.updated"]
    assert sorted(m["type"] for m in drain(here)) == ["action.run.created", "entity.updated"]
    assert [m["type"] for m in drain(there_runs)] == ["action.run.created"]


def test_an_event_longer_than_a_notify_payload_arrives_whole(two_buses):
    first, second = two_buses
    there = second.subscribe()
    long_text = "x" * 30_000 + "é" * 100
    first.publish("action.run.updated", {"id": "run-2", "outputs": {"log": long_text}})
    message = there.get(timeout=5)
    assert message["payload"]["outputs"]["log"] == long_text


def test_a_revocation_on_one_replica_ends_the_subscriptions_on_the_other(two_buses):
    first, second = two_buses
    kept = second.subscribe(credential="session:other")
    ended = second.subscribe(credential="session:abc")
    assert first.revoke("session:abc", "logged out") == 0  # none in this process
    assert ended.get(timeout=5) == {"type": REVOKED, "payload": {"reason": "logged out"}}
    assert ended.revoked == "logged out" and kept.revoked is None
