"""Level logic: lower levels first, levels without rules, weights, entities not scored."""

from __future__ import annotations

from pathlib import Path

from generator.score.model import level_reached
from tests.index.conftest import document

from .conftest import levels, make_repo, rule, scorecard, scored

LEVELS = ("Bronze", "Silver", "Gold")


def test_level_reached_needs_every_lower_level():
    assert level_reached(LEVELS, set()) == "Gold"
    assert level_reached(LEVELS, {"Bronze"}) is None
    assert level_reached(LEVELS, {"Silver"}) == "Bronze"
    assert level_reached(LEVELS, {"Gold"}) == "Silver"
    assert level_reached(LEVELS, {"Bronze", "Gold"}) is None


def _service(name: str, **spec: object) -> dict:
    return document("Service", name, spec={"type": "backend", **spec})


def test_levels_gaps_weights_and_entities_without_rules(tmp_path: Path):
    card = scorecard("maturity", [
        rule("typed", "Bronze", weight=3, field={"path": "spec.type", "exists": True}),
        rule("healthy", "Gold", field={"path": "spec.healthCheckUrl", "exists": True}),
        rule("repo", "Gold", field={"path": "spec.repoUrl", "exists": True})])
    catalog = make_repo(tmp_path / "repo", {
        "card.yaml": [card],
        "services.yaml": [
            _service("top", healthCheckUrl="https://a.example.com/h",
                     repoUrl="https://git.example.com/a"),
            _service("middle", healthCheckUrl="https://b.example.com/h"),
            document("Service", "untyped", spec={"repoUrl": "https://git.example.com/c"})],
        "api.yaml": [document("API", "not-scored", spec={"type": "rest"})]})
    con = scored(catalog, tmp_path / "out")
    found = levels(con, "maturity")
    assert found["service:default/top"] == ("Gold", 100.0)
    # Silver has no rules: passed because every level below it is.
    assert found["service:default/middle"] == ("Silver", 80.0)
    # Fails Bronze: below the first level, whatever passes above.
    assert found["service:default/untyped"] == (None, 20.0)
    assert "api:default/not-scored" not in found


def test_a_scorecard_without_rules_scores_nothing(tmp_path: Path):
    catalog = make_repo(tmp_path / "repo", {"card.yaml": [scorecard("empty", [])],
                                            "services.yaml": [_service("svc")]})
    con = scored(catalog, tmp_path / "out")
    assert levels(con, "empty") == {}
