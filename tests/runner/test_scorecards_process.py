"""A real `gantry serve`: a write through the API is re-scored before the answer returns."""

from __future__ import annotations

import uuid

from tests.support.runner_process import RunnerProcess, http


def _service(name: str, **spec: object) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "owner": "platform-team",
                         "description": "Scored by the runner after each write"},
            "spec": {"type": "backend", "lifecycle": "production", **spec}}


def _readiness(runner: RunnerProcess, name: str) -> dict:
    answer = http.get(runner.url(f"/api/v1/entities/service/{name}/scores"),
                      headers=runner.auth())
    assert answer.status_code == 200, answer.text
    return {card["name"]: card for card in answer.json()["scorecards"]}["production-readiness"]


def test_each_write_is_re_scored(runner: RunnerProcess):
    name = f"rescored-{uuid.uuid4().hex[:8]}"
    created = http.post(runner.url("/api/v1/entities"), headers=runner.auth(),
                        json=_service(name))
    assert created.status_code == 201, created.text
    card = _readiness(runner, name)
    assert card["level"] == "Bronze"
    failing = {rule["id"] for rule in card["rules"] if not rule["passed"]}
    assert {"health-check", "deployed"} <= failing

    updated = http.put(runner.url(f"/api/v1/entities/service/{name}"), headers=runner.auth(),
                       json=_service(name, healthCheckUrl="https://x.example.com/health",
                                     deployedIn=[{"kind": "Environment", "name": "staging"}]))
    assert updated.status_code == 200, updated.text
    assert _readiness(runner, name)["level"] == "Silver"
    summary = http.get(runner.url("/api/v1/scorecards/production-readiness"),
                       headers=runner.auth()).json()
    assert any(e["name"] == name and e["level"] == "Silver" for e in summary["entities"])
