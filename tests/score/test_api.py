"""The scorecard API on the example catalog, and re-scoring after a write through the API."""

from __future__ import annotations

import uuid

from tests.runner.inprocess import InProcessApp


def _service(name: str, **spec: object) -> dict:
    return {"apiVersion": "gantry.io/v1", "kind": "Service",
            "metadata": {"name": name, "owner": "platform-team",
                         "description": "Scored after every write"},
            "spec": {"type": "backend", "lifecycle": "production", **spec}}


def test_scorecards_list_and_detail(api: InProcessApp):
    listed = api.http.get(api.url("/api/v1/scorecards"), headers=api.auth(api.tokens["viewer"]))
    assert listed.status_code == 200, listed.text
    names = [card["name"] for card in listed.json()]
    assert names == ["documentation", "production-readiness"]
    readiness = listed.json()[1]
    assert [d["label"] for d in readiness["distribution"]] == \
        ["Below first level", "Bronze", "Silver", "Gold"]
    assert sum(d["count"] for d in readiness["distribution"]) == readiness["entities"] > 0

    detail = api.http.get(api.url("/api/v1/scorecards/production-readiness"),
                          headers=api.auth())
    assert detail.status_code == 200
    body = detail.json()
    teams = {team["owner"]: team for team in body["teams"]}
    assert "platform-team" in teams
    failed = [rule["failed"] for rule in body["rules"]]
    assert failed == sorted(failed, reverse=True)
    assert {e["level"] for e in body["entities"]} == {None, "Bronze", "Silver", "Gold"}


def test_unknown_names_are_404(api: InProcessApp):
    for path in ("/api/v1/scorecards/no-such-card",
                 "/api/v1/entities/service/no-such-service/scores"):
        answer = api.http.get(api.url(path), headers=api.auth())
        assert answer.status_code == 404
        assert "not found" in answer.json()["error"]
    assert api.http.get(api.url("/api/v1/scorecards")).status_code == 401


def test_a_write_is_scored_at_once(api: InProcessApp):
    name = f"scored-{uuid.uuid4().hex[:8]}"
    created = api.http.post(api.url("/api/v1/entities"), headers=api.auth(),
                            json=_service(name))
    assert created.status_code == 201, created.text

    def level() -> str | None:
        answer = api.http.get(api.url(f"/api/v1/entities/service/{name}/scores"),
                              headers=api.auth())
        assert answer.status_code == 200, answer.text
        cards = {card["name"]: card for card in answer.json()["scorecards"]}
        return cards["production-readiness"]["level"]

    assert level() == "Bronze"
    updated = api.http.put(api.url(f"/api/v1/entities/service/{name}"), headers=api.auth(),
                           json=_service(name, healthCheckUrl="https://x.example.com/health",
                                         deployedIn=[{"kind": "Environment",
                                                      "name": "staging"}]))
    assert updated.status_code == 200, updated.text
    assert level() == "Silver"
