import json

import pytest

from runner.actions.executors.base import Done, Failed
from runner.actions.executors.flux_update import EXECUTOR as flux
from runner.actions.placeholders import Placeholders

from .drive import drive, make_context
from .fakes.flux_receiver import FluxReceiver


def test_signed_request_is_accepted(monkeypatch):
    monkeypatch.setenv("FLUX_RECEIVER_TOKEN", "flux-token-5a4b3c")
    with FluxReceiver(token="flux-token-5a4b3c") as receiver:
        config = {"url": receiver.hook_url, "secret": "${FLUX_RECEIVER_TOKEN}"}
        ctx = make_context(config, {"image": "v1.2.3"},
                           placeholders=Placeholders(("FLUX_RECEIVER_TOKEN",)))
        step, _ = drive(flux, ctx)
    assert isinstance(step, Done) and step.outputs == {"statusCode": 200}
    (body,) = receiver.accepted
    assert json.loads(body)["inputs"] == {"image": "v1.2.3"}
    assert json.loads(body)["runId"] == "run-0001"
    assert "flux-token-5a4b3c" in ctx.secrets


def test_wrong_token_fails_with_the_meaning_of_400():
    with FluxReceiver(token="the-real-token") as receiver:
        step, _ = drive(flux, make_context({"url": receiver.hook_url, "secret": "wrong"}))
    assert isinstance(step, Failed)
    assert "HTTP 400" in step.error and "signature" in step.error
    assert receiver.accepted == [] and len(receiver.refused) == 1


def test_missing_secret_for_an_hmac_receiver_is_refused():
    with FluxReceiver(token="the-real-token") as receiver:
        step, _ = drive(flux, make_context({"url": receiver.hook_url}))
    assert isinstance(step, Failed) and "HTTP 400" in step.error


def test_unknown_digest_fails_with_404():
    with FluxReceiver(token=None) as receiver:
        step, _ = drive(flux, make_context({"url": receiver.url + "/hook/nope"}))
    assert isinstance(step, Failed) and "HTTP 404" in step.error and "digest" in step.error


def test_receiver_not_ready():
    with FluxReceiver(token=None, ready=False) as receiver:
        step, _ = drive(flux, make_context({"url": receiver.hook_url}))
    assert isinstance(step, Failed) and "HTTP 503" in step.error


def test_unreachable_receiver():
    with FluxReceiver(token=None) as receiver:
        url = receiver.hook_url
    step, _ = drive(flux, make_context({"url": url}))
    assert isinstance(step, Failed) and "could not connect" in step.error


def test_unset_variable_fails_closed(monkeypatch):
    monkeypatch.delenv("FLUX_TEST_UNSET", raising=False)
    with FluxReceiver(token=None) as receiver:
        config = {"url": receiver.hook_url, "secret": "${FLUX_TEST_UNSET}"}
        step, _ = drive(flux, make_context(config, placeholders=Placeholders(("FLUX_*",))))
    assert isinstance(step, Failed) and "FLUX_TEST_UNSET" in step.error
    assert "not set" in step.error
    assert receiver.accepted == []


def flux_plugin(**settings: object):
    return lambda name: dict(settings) if name == "flux" else {}


def test_the_flux_plugin_receiver_is_the_default():
    with FluxReceiver(token="plugin-token-77aa") as receiver:
        ctx = make_context({}, plugin_config=flux_plugin(receiverUrl=receiver.hook_url,
                                                         secret="plugin-token-77aa"))
        step, _ = drive(flux, ctx)
    assert isinstance(step, Done) and len(receiver.accepted) == 1
    assert "plugin-token-77aa" in ctx.secrets  # kept out of outputs and logs


def test_an_action_with_its_own_url_does_not_get_the_plugin_secret():
    with FluxReceiver(token="plugin-token-77aa") as receiver:
        ctx = make_context({"url": receiver.hook_url},
                           plugin_config=flux_plugin(receiverUrl=receiver.hook_url,
                                                     secret="plugin-token-77aa"))
        step, _ = drive(flux, ctx)
    assert isinstance(step, Failed) and "HTTP 400" in step.error
    assert receiver.refused and receiver.accepted == []


def test_no_url_anywhere_fails_before_sending():
    step, _ = drive(flux, make_context({}))
    assert isinstance(step, Failed) and "receiverUrl" in step.error
    assert flux.validate_config({}) == []  # the plugin may provide it at run time


@pytest.mark.parametrize(
    "config, fragment",
    [({"url": "ftp://flux.example/hook/abc"}, "http or https"),
     ({"url": "https://flux.example/other"}, "/hook/"),
     ({"url": "https://flux.example/hook/abc", "secret": 5}, "secret")],
)
def test_config_problems(config, fragment):
    assert any(fragment in problem for problem in flux.validate_config(config))
