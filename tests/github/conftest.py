"""Fixtures of the GitHub tests: a fake GitHub server, App keys, and a way to drive the
`github-action` executor step by step as the engine does."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from runner.actions.executors.base import Done, Failed, RunContext, Wait
from runner.actions.executors.github_action import EXECUTOR

from .fake_github import App, FakeGitHub

PAT = "ghp_testPersonalAccessToken0123456789abcd"
POLL = 0.02
INPUTS = {"service": {"required": True}, "environment": {"required": True},
          "dry_run": {}, "notes": {}, "replicas": {}}


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    """Reads every 20 ms instead of every 3 s, as a runner with that setting would."""
    monkeypatch.setenv("GANTRY_GITHUB_POLL_INTERVAL", str(POLL))


@pytest.fixture(scope="session")
def app_keys() -> tuple[str, str]:
    """An RSA key pair as PEM text: (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
def github():
    with FakeGitHub(token=PAT) as server:
        server.add_workflow("acme", "deployments", "deploy.yml", inputs=INPUTS)
        yield server


def pat_config(server: FakeGitHub, token: str = PAT) -> dict[str, Any]:
    return {"authMode": "pat", "personalAccessToken": token, "apiUrl": server.api_url}


def app_config(server: FakeGitHub, private_key: str, app: App) -> dict[str, Any]:
    return {"authMode": "app", "appId": app.app_id, "installationId": app.installation_id,
            "privateKey": private_key, "apiUrl": server.api_url}


def action_config(**extra: Any) -> dict[str, Any]:
    return {"repository": "acme/deployments", "workflow": "deploy.yml", "ref": "main",
            "timeout": 5, **extra}


def context(config: dict[str, Any], plugin: dict[str, Any], inputs: dict | None = None,
            run_id: str = "run-0001", state: dict | None = None) -> RunContext:
    return RunContext(
        run_id=run_id, action_name="deploy-service",
        action={"kind": "Action", "metadata": {"name": "deploy-service"},
                "spec": {"type": "github-action", "config": config}},
        config=config,
        inputs=inputs if inputs is not None else {"service": "payment-api",
                                                  "environment": "staging"},
        triggered_by="alice",
        plugin_config=lambda name: dict(plugin) if name == "github" else {},
        state=dict(state or {}),
    )


def finish(step, ctx: RunContext, max_steps: int = 400) -> Done | Failed:
    """Keep polling through `Wait` steps (sleeping as the engine's timer would)."""
    for _ in range(max_steps):
        if not isinstance(step, Wait):
            return step
        time.sleep(min(step.seconds, 2.0))
        step = EXECUTOR.poll(ctx)
    raise AssertionError("the executor never finished")


def drive(ctx: RunContext) -> Done | Failed:
    return finish(EXECUTOR.start(ctx), ctx)
