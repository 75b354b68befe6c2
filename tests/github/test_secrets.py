"""Credentials (PAT, App private key, app JWT, installation tokens) never end up in a run's
state, outputs or error, even when GitHub echoes one back."""

from __future__ import annotations

import json

from runner.actions.executors.base import Failed
from runner.redact import REDACTED, redact

from .conftest import PAT, action_config, app_config, context, drive, pat_config
from .fake_github import App, FakeGitHub
from .test_client import make_app


def shown(step, ctx) -> str:
    """What the engine stores and shows of a finished step."""
    error = redact(step.error, ctx.secrets) if isinstance(step, Failed) else ""
    return json.dumps([redact(step.outputs, ctx.secrets), error, ctx.state])


def test_app_credentials_stay_out_of_runs(app_keys):
    private, public = app_keys
    app: App = make_app(public)
    with FakeGitHub(app=app) as server:
        server.add_workflow("acme", "deployments", "deploy.yml", conclusion="failure")
        ctx = context(action_config(), app_config(server, private, app), inputs={})
        step = drive(ctx)
        assert isinstance(step, Failed) and "concluded failure" in step.error
        [token] = server.installation_tokens
        assert token in ctx.secrets and private.strip() in ctx.secrets
        text = shown(step, ctx)
        for secret in (token, private.strip(), "BEGIN PRIVATE KEY", *ctx.secrets):
            assert secret not in text


def test_a_token_echoed_by_github_is_redacted(github):
    github.fail("POST", "/dispatches", 422, message=f"token {PAT} may not dispatch")
    ctx = context(action_config(), pat_config(github))
    step = drive(ctx)
    assert isinstance(step, Failed)
    assert PAT in step.error  # what GitHub said ...
    text = shown(step, ctx)
    assert PAT not in text and f"token {REDACTED} may not dispatch" in text  # ... never shown


def test_a_private_key_that_cannot_sign_fails_without_showing_it(github):
    key = "-----BEGIN RSA PRIVATE KEY-----\nnot-really-a-key\n-----END RSA PRIVATE KEY-----"
    ctx = context(action_config(), app_config(github, key, make_app("unused")))
    step = drive(ctx)
    assert isinstance(step, Failed)
    assert "privateKey is not a usable GitHub App private key" in step.error
    assert "not-really-a-key" not in shown(step, ctx)
    assert not github.dispatches
