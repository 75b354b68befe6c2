import hashlib
import hmac
import json
import time

import pytest

from runner.actions.executors.base import Done, Failed, Wait
from runner.actions.executors.webhook import EXECUTOR as webhook
from runner.actions.placeholders import Placeholders

from .drive import drive, make_context
from .fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def test_delivers_inputs_with_run_id_idempotency_key_and_signature(receiver, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "tok-3f9a8b7c")
    monkeypatch.setenv("HOOK_SECRET", "sign-me-8e7d")
    config = {
        "url": receiver.url + "/deploy",
        "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"},
        "secret": "${HOOK_SECRET}",
    }
    ctx = make_context(config, {"service": "payment-api", "replicas": 3},
                       placeholders=Placeholders(("HOOK_TOKEN", "HOOK_SECRET")))
    step, waits = drive(webhook, ctx)
    assert isinstance(step, Done), step
    assert step.outputs["statusCode"] == 200 and step.outputs["attempts"] == 1
    assert waits == []
    (request,) = receiver.requests
    assert request.method == "POST" and request.path == "/deploy"
    assert request.json() == {"service": "payment-api", "replicas": 3}
    assert request.headers["Authorization"] == "Bearer tok-3f9a8b7c"
    assert request.headers["X-Gantry-Run-Id"] == "run-0001"
    assert request.headers["Idempotency-Key"].endswith("run-0001")
    expected = hmac.new(b"sign-me-8e7d", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == "sha256=" + expected
    assert "tok-3f9a8b7c" in ctx.secrets and "sign-me-8e7d" in ctx.secrets


def test_unset_variable_fails_before_anything_is_sent(receiver, monkeypatch):
    monkeypatch.delenv("HOOK_TEST_UNSET_VAR", raising=False)
    config = {"url": receiver.url, "headers": {"X-Token": "${HOOK_TEST_UNSET_VAR}"}}
    step, _ = drive(webhook, make_context(config, placeholders=Placeholders(("HOOK_*",))))
    assert isinstance(step, Failed)
    assert "not set" in step.error
    assert "HOOK_TEST_UNSET_VAR" in step.error and "nothing was sent" in step.error
    assert receiver.requests == []


def test_retries_5xx_with_backoff_and_a_stable_idempotency_key():
    with WebhookReceiver(fail_times=2) as receiver:
        step, waits = drive(webhook, make_context({"url": receiver.url}))
    assert isinstance(step, Done) and step.outputs["attempts"] == 3
    assert waits == [1.0, 2.0]
    keys = {request.headers["Idempotency-Key"] for request in receiver.requests}
    assert len(receiver.requests) == 3 and len(keys) == 1
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    assert gaps[0] >= 0.95 and gaps[1] >= 1.95


def test_honours_retry_after_on_429():
    with WebhookReceiver(fail_times=1, fail_status=429, retry_after="2") as receiver:
        step, waits = drive(webhook, make_context({"url": receiver.url}))
    assert isinstance(step, Done)
    assert waits == [2.0]


def test_gives_up_after_the_configured_retries():
    with WebhookReceiver(fail_forever=True, fail_status=502) as receiver:
        step, waits = drive(webhook, make_context({"url": receiver.url, "retries": 1}))
    assert isinstance(step, Failed)
    assert "after 2 attempt(s)" in step.error and "HTTP 502" in step.error
    assert len(receiver.requests) == 2 and waits == [1.0]


def test_client_errors_are_not_retried():
    with WebhookReceiver(status=400) as receiver:
        step, waits = drive(webhook, make_context({"url": receiver.url}))
    assert isinstance(step, Failed) and "HTTP 400" in step.error
    assert len(receiver.requests) == 1 and waits == []


def test_a_hanging_receiver_times_out_and_is_retried():
    with WebhookReceiver(hang_seconds=1.0) as receiver:
        ctx = make_context({"url": receiver.url, "timeout": 0.3, "retries": 1})
        step, waits = drive(webhook, ctx)
    assert isinstance(step, Failed) and "timed out" in step.error
    assert waits == [1.0]


def test_connection_refused_is_retried_then_fails():
    with WebhookReceiver() as receiver:
        url = receiver.url
    step, waits = drive(webhook, make_context({"url": url, "retries": 2}))
    assert isinstance(step, Failed) and "could not connect" in step.error
    assert waits == [1.0, 2.0]


def test_retry_after_beyond_the_delivery_window_fails_at_once():
    with WebhookReceiver(fail_times=1, fail_status=429, retry_after="120") as receiver:
        started = time.monotonic()
        step, _ = drive(webhook, make_context({"url": receiver.url}))
    assert isinstance(step, Failed) and "delivery window" in step.error
    assert time.monotonic() - started < 5


def test_resume_delivers_again_with_the_same_key():
    with WebhookReceiver(fail_times=1) as receiver:
        ctx = make_context({"url": receiver.url})
        first = webhook.start(ctx)
        assert isinstance(first, Wait)
        persisted = json.loads(json.dumps(ctx.state))
        resumed = make_context({"url": receiver.url}, state=persisted)
        step = webhook.resume(resumed)
    assert isinstance(step, Done) and step.outputs["attempts"] == 2
    assert receiver.requests[0].headers["Idempotency-Key"] == receiver.requests[1].headers[
        "Idempotency-Key"
    ]


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({}, "spec.config: missing required key 'url'"),
        ({"url": "ftp://example.org"}, "http or https"),
        ({"url": "https://x.example", "method": "HEAD"}, "config.method"),
        ({"url": "https://x.example", "headers": {"A": 1}}, "config.headers"),
        ({"url": "https://x.example", "timeout": 0}, "config.timeout"),
        ({"url": "https://x.example", "retries": 11}, "config.retries"),
    ],
)
def test_config_problems(config, fragment):
    problems = webhook.validate_config(config)
    assert any(fragment in problem for problem in problems), problems


def test_valid_config_has_no_problems():
    assert webhook.validate_config({"url": "${HOOK_URL}", "headers": {"A": "b"}}) == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_delivered_like_any_other_method(receiver, method):
    """The schema always allowed them; the runner now sends them, body and signature kept."""
    config = {"url": receiver.url + "/env/42", "method": method, "secret": "k-51",
              "timeout": 300}
    assert webhook.validate_config(config) == []
    step, _ = drive(webhook, make_context(config, {"reason": "closed"}))
    assert isinstance(step, Done), step
    (request,) = receiver.requests
    assert (request.method, request.path) == (method, "/env/42")
    assert request.json() == {"reason": "closed"}
    expected = hmac.new(b"k-51", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == "sha256=" + expected
