"""`${NAME}` in an action's config reaches only what GANTRY_ACTION_ENV allows.

Whoever writes an Action (a catalog pull request, a user of the entity API) must not read the
runner's own settings or any other variable of its environment: a placeholder that is not
allowed fails the run before any request, with a message naming the variable and the
setting, and the receiver gets nothing. A real `gantry serve` runs the actions; receivers are
local HTTP servers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

import httpx
import pytest

from runner.actions.placeholders import Placeholders
from tests.support.runner_process import (
    ADMIN_PASSWORD,
    SECRET_KEY,
    RunnerProcess,
    make_catalog_repo,
)

from .conftest import action_files, wait_for_run
from .fakes.flux_receiver import FluxReceiver
from .fakes.webhook_receiver import WebhookReceiver

ROUTING_KEY = "pd-routing-9b1e77c2"
HMAC_KEY = "pd-hmac-key-4410aa5d"
FLUX_TOKEN = "flux-receiver-token-3c8e51"
PREFIX_MISS = "pdx-token-0c3d21f9"
BARE_PREFIX = "pd-bare-7f72a0e4"
BACKUP_URL = "slack-backup-5e9a6b03"
MADE_UP = "made-up-signing-2b7c6e18"
RESERVED_EXTRA = "gantry-extra-61d0f3aa"
MIXED_CASE = "mixed-case-value-88a1c4"

ALLOW_LIST = "PAGERDUTY_*, SLACK_WEBHOOK_URL,GANTRY_*,GANTRY_DATA_DIR,FLUX_RECEIVER_TOKEN"
"""Lists GANTRY_ names on purpose: they must stay refused."""
INPUTS = [{"name": "service", "type": "string"}]

RUNNER_VALUES = tuple(value for value in (
    SECRET_KEY, ADMIN_PASSWORD, PREFIX_MISS, BARE_PREFIX, BACKUP_URL, MADE_UP, RESERVED_EXTRA,
    MIXED_CASE, os.environ.get("HOME", ""),
) if len(value) >= 6)


def _action(spec: dict) -> str:
    """An Action body (after the metadata header); JSON is YAML, and keeps `${...}` as is."""
    return "spec: " + json.dumps({"permissions": {"allowedRoles": ["developer"]},
                                  "inputs": INPUTS, **spec}) + "\n"


def _hook(config: dict) -> dict:
    return {"type": "webhook", "config": {"retries": 0, **config}}


def _refused_cases(trap: str, flux_trap: str) -> dict[str, tuple[dict, list[str]]]:
    """Action name -> (spec, the variables its refusal must name)."""
    return {
        "attack-url-and-header": (_hook({
            "url": trap + "/echo/${GANTRY_SECRET_KEY}",
            "headers": {"X-Admin": "${GANTRY_ADMIN_PASSWORD}"},
        }), ["GANTRY_SECRET_KEY", "GANTRY_ADMIN_PASSWORD"]),
        "reserved-covered-by-prefix": (_hook({
            "url": trap + "/extra", "headers": {"X-Extra": "Bearer ${GANTRY_EXTRA_TOKEN}"},
        }), ["GANTRY_EXTRA_TOKEN"]),
        "reserved-listed-by-name": (_hook({
            "url": trap + "/dir?d=${GANTRY_DATA_DIR}",
        }), ["GANTRY_DATA_DIR"]),
        "reserved-unset": (_hook({"url": trap + "/unset", "secret": "${GANTRY_NOT_A_SETTING}"}),
                           ["GANTRY_NOT_A_SETTING"]),
        "reserved-in-other-case": (_hook({
            "url": trap + "/case", "headers": {"X-Case": "${Gantry_Mixed_Case}"},
        }), ["Gantry_Mixed_Case"]),
        "unlisted-home": (_hook({"url": trap + "/home${HOME}"}), ["HOME"]),
        "unlisted-path": (_hook({"url": trap + "/p", "headers": {"X-Path": "${PATH}"}}),
                          ["PATH"]),
        "unlisted-made-up": (_hook({"url": trap + "/m", "secret": "${DEPLOY_SIGNING_TOKEN}"}),
                             ["DEPLOY_SIGNING_TOKEN"]),
        "prefix-needs-its-underscore": (_hook({
            "url": trap + "/x", "headers": {"X-Key": "${PAGERDUTYX_TOKEN}"},
        }), ["PAGERDUTYX_TOKEN"]),
        "prefix-is-not-the-name": (_hook({
            "url": trap + "/y", "headers": {"X-Key": "${PAGERDUTY}"},
        }), ["PAGERDUTY"]),
        "exact-name-is-not-a-prefix": (_hook({"url": "${SLACK_WEBHOOK_URL_BACKUP}"}),
                                       ["SLACK_WEBHOOK_URL_BACKUP"]),
        "allowed-next-to-refused": (_hook({
            "url": trap + "/mixed",
            "headers": {"X-Routing-Key": "${PAGERDUTY_ROUTING_KEY}",
                        "X-Other": "${DEPLOY_SIGNING_TOKEN}"},
        }), ["DEPLOY_SIGNING_TOKEN"]),
        "flux-secret-reserved": ({"type": "flux-update",
                                  "config": {"url": flux_trap, "secret": "${GANTRY_SECRET_KEY}"}},
                                 ["GANTRY_SECRET_KEY"]),
        "flux-url-unlisted": ({"type": "flux-update",
                               "config": {"url": flux_trap + "?k=${DEPLOY_SIGNING_TOKEN}",
                                          "secret": "${FLUX_RECEIVER_TOKEN}"}},
                              ["DEPLOY_SIGNING_TOKEN"]),
        "flux-url-whole-placeholder": ({"type": "flux-update",
                                        "config": {"url": "${PAGERDUTYX_TOKEN}"}},
                                       ["PAGERDUTYX_TOKEN"]),
    }


REFUSED = list(_refused_cases("http://t", "http://f/hook/x"))


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust-placeholders")
    with WebhookReceiver() as trap, WebhookReceiver() as allowed, \
            FluxReceiver(token=FLUX_TOKEN) as flux_trap, FluxReceiver(token=FLUX_TOKEN) as flux:
        cases = _refused_cases(trap.url, flux_trap.hook_url)
        actions = {name: _action(spec) for name, (spec, _names) in cases.items()}
        actions["allowed-ones"] = _action(_hook({
            "url": "${SLACK_WEBHOOK_URL}/alert",
            "headers": {"X-Routing-Key": "${PAGERDUTY_ROUTING_KEY}"},
            "secret": "${PAGERDUTY_HMAC}",
        }))
        actions["allowed-flux"] = _action({"type": "flux-update", "config": {
            "url": flux.hook_url, "secret": "${FLUX_RECEIVER_TOKEN}"}})
        repo = make_catalog_repo(root / "repo", extra_files=action_files(actions))
        env = {
            "GANTRY_ACTION_ENV": ALLOW_LIST,
            "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
            "PAGERDUTY_HMAC": HMAC_KEY,
            "PAGERDUTYX_TOKEN": PREFIX_MISS,
            "PAGERDUTY": BARE_PREFIX,
            "SLACK_WEBHOOK_URL": allowed.url + "/slack",
            "SLACK_WEBHOOK_URL_BACKUP": BACKUP_URL,
            "DEPLOY_SIGNING_TOKEN": MADE_UP,
            "GANTRY_EXTRA_TOKEN": RESERVED_EXTRA,
            "Gantry_Mixed_Case": MIXED_CASE,
            "FLUX_RECEIVER_TOKEN": FLUX_TOKEN,
        }
        with RunnerProcess(repo / "catalog", root / "data", env=env) as runner:
            runner.developer = runner.create_user("dana", "developer")
            yield runner, cases, trap, allowed, flux_trap, flux


def _run(runner, action: str) -> dict:
    response = httpx.post(runner.url(f"/api/v1/actions/{action}/execute"),
                          json={"inputs": {"service": "checkout"}},
                          headers=runner.auth(runner.developer), timeout=30)
    assert response.status_code == 201, response.text
    return wait_for_run(runner, action, response.json()["id"])


def _assert_refused(run: dict, names: list[str]) -> None:
    assert run["status"] == "failed", run
    error = run["error"]
    for name in names:
        assert "${" + name + "}" in error, error
    assert "GANTRY_ACTION_ENV" in error and "nothing was sent" in error, error
    shown = json.dumps(run)
    for value in (*RUNNER_VALUES, ROUTING_KEY):
        assert value not in shown, f"{value!r} shown in {shown}"


@pytest.mark.parametrize("action", REFUSED)
def test_a_placeholder_that_is_not_allowed_fails_the_run_and_sends_nothing(portal, action):
    runner, cases, trap, _allowed, flux_trap, _flux = portal
    _spec, names = cases[action]
    run = _run(runner, action)
    _assert_refused(run, names)
    # the run has ended, so whatever it would have sent has arrived by now
    assert trap.requests == []
    assert flux_trap.accepted == [] and flux_trap.refused == []


def test_the_refusal_names_only_the_refused_variables(portal):
    runner, *_ = portal
    run = _run(runner, "allowed-next-to-refused")
    assert "PAGERDUTY_ROUTING_KEY" not in run["error"]
    assert "DEPLOY_SIGNING_TOKEN" in run["error"]


def test_reserved_names_are_refused_as_the_runners_own_settings(portal):
    runner, *_ = portal
    run = _run(runner, "reserved-covered-by-prefix")
    assert "GANTRY_" in run["error"] and "never" in run["error"]


def test_allowed_variables_still_expand(portal):
    runner, _cases, _trap, allowed, _flux_trap, flux = portal
    run = _run(runner, "allowed-ones")
    assert run["status"] == "success", run
    (request,) = [r for r in allowed.requests if r.headers["X-Gantry-Run-Id"] == run["id"]]
    assert request.path == "/slack/alert"
    assert request.headers["X-Routing-Key"] == ROUTING_KEY
    expected = hmac.new(HMAC_KEY.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == "sha256=" + expected
    shown = json.dumps(run)
    assert ROUTING_KEY not in shown and HMAC_KEY not in shown

    flux_run = _run(runner, "allowed-flux")
    assert flux_run["status"] == "success", flux_run
    assert len(flux.accepted) == 1


def test_an_action_written_through_the_api_is_refused_the_same_way(portal):
    runner, _cases, trap, *_ = portal
    entity = {
        "apiVersion": "gantry.io/v1", "kind": "Action",
        "metadata": {"name": "api-written-attack", "namespace": "default"},
        "spec": {"type": "webhook", "permissions": {"allowedRoles": ["developer"]},
                 "inputs": INPUTS,
                 "config": {"url": trap.url + "/k/${GANTRY_SECRET_KEY}",
                            "headers": {"X-Pass": "${GANTRY_ADMIN_PASSWORD}",
                                        "X-Home": "${HOME}"},
                            "retries": 0}},
    }
    created = httpx.post(runner.url("/api/v1/entities"), json=entity, headers=runner.auth(),
                         timeout=30)
    assert created.status_code == 201, created.text
    run = _run(runner, "api-written-attack")
    _assert_refused(run, ["GANTRY_SECRET_KEY", "GANTRY_ADMIN_PASSWORD", "HOME"])
    assert trap.requests == []


@pytest.fixture(scope="module")
def wildcard(tmp_path_factory):
    """A runner allowing every name (`*`): GANTRY_ names stay refused, others expand."""
    root = tmp_path_factory.mktemp("trust-placeholders-wildcard")
    with WebhookReceiver() as hook:
        actions = {
            "wild-reserved": _action(_hook({"url": hook.url + "/r",
                                            "headers": {"X-Key": "${GANTRY_SECRET_KEY}"}})),
            "wild-reserved-case": _action(_hook({"url": hook.url + "/c?v=${gantry_admin_pw}"})),
            "wild-other": _action(_hook({"url": hook.url + "/o",
                                         "headers": {"X-Deploy": "${DEPLOY_SIGNING_TOKEN}"}})),
        }
        repo = make_catalog_repo(root / "repo", extra_files=action_files(actions))
        env = {"GANTRY_ACTION_ENV": "*", "DEPLOY_SIGNING_TOKEN": MADE_UP,
               "gantry_admin_pw": MIXED_CASE}
        with RunnerProcess(repo / "catalog", root / "data", env=env) as runner:
            runner.developer = runner.create_user("dana", "developer")
            yield runner, hook


def test_a_wildcard_allow_list_never_reaches_gantry_settings(wildcard):
    runner, hook = wildcard
    _assert_refused(_run(runner, "wild-reserved"), ["GANTRY_SECRET_KEY"])
    _assert_refused(_run(runner, "wild-reserved-case"), ["gantry_admin_pw"])
    assert hook.requests == []
    other = _run(runner, "wild-other")
    assert other["status"] == "success", other
    (request,) = hook.requests
    assert request.headers["X-Deploy"] == MADE_UP


@pytest.mark.parametrize("value", ["PAGERDUTY KEY", "PAGER*DUTY", "SLACK-URL", "$HOME"])
def test_a_malformed_allow_list_stops_the_runner_with_a_message(tmp_path, value):
    repo = make_catalog_repo(tmp_path / "repo")
    process = RunnerProcess(repo / "catalog", tmp_path / "data",
                            env={"GANTRY_ACTION_ENV": f"SLACK_WEBHOOK_URL,{value}"})
    with pytest.raises(RuntimeError) as refused:
        process.start()
    assert "GANTRY_ACTION_ENV" in str(refused.value) and value in str(refused.value)


@pytest.mark.parametrize(("allowed", "name", "expected"), [
    (("PAGERDUTY_*",), "PAGERDUTY_KEY", True),
    (("PAGERDUTY_*",), "PAGERDUTY_", True),
    (("PAGERDUTY_*",), "PAGERDUTYX", False),
    (("PAGERDUTY_*",), "PAGERDUTY", False),
    (("PAGERDUTY_*",), "pagerduty_key", False),
    (("SLACK_WEBHOOK_URL",), "SLACK_WEBHOOK_URL", True),
    (("SLACK_WEBHOOK_URL",), "SLACK_WEBHOOK_URL_2", False),
    (("*",), "HOME", True),
    (("*",), "GANTRY_SECRET_KEY", False),
    (("GANTRY_*",), "GANTRY_PORT", False),
    (("GANTRY_ADMIN_PASSWORD",), "GANTRY_ADMIN_PASSWORD", False),
    (("*",), "gantry_port", False),
    ((), "HOME", False),
])
def test_allow_list_semantics(allowed, name, expected):
    assert Placeholders(allowed, environ={}).allows(name) is expected
