"""Each kind of check, evaluated by a real build over a small catalog in a real Git repo."""

from __future__ import annotations

from pathlib import Path

from tests.index.conftest import document

from .conftest import levels, make_repo, results, rule, scorecard, scored

TEAM = [document("Team", "owners")]
DOCS = [document("Documentation", "guide", spec={
    "type": "wiki", "relatedTo": [{"kind": "Service", "name": "rich"}]})]
ENVS = [document("Environment", "prod", spec={"type": "production"}),
        document("Environment", "stage", spec={"type": "staging"})]
RICH = document("Service", "rich", owner="owners", description="A well kept service",
                annotations={"github.com/project-slug": "acme/rich"},
                links=[{"title": "Runbook", "url": "https://wiki.example.com/rich"}],
                spec={"type": "backend", "lifecycle": "production", "replicas": 3,
                      "healthCheckUrl": "https://rich.example.com/health",
                      "deployedIn": [{"kind": "Environment", "name": "prod"},
                                     {"kind": "Environment", "name": "stage"}]})
BARE = document("Service", "bare", spec={"type": "worker", "lifecycle": "experimental",
                                         "replicas": 1})
RICH_REF, BARE_REF = "service:default/rich", "service:default/bare"

CHECKS = [
    rule("exists", "Bronze", field={"path": "metadata.description", "exists": True}),
    rule("equals", "Bronze", field={"path": "spec.type", "equals": "backend"}),
    rule("one-of", "Bronze", field={"path": "spec.lifecycle",
                                    "oneOf": ["production", "development"]}),
    rule("matches", "Bronze", field={"path": "spec.healthCheckUrl", "matches": "^https://"}),
    rule("at-least", "Bronze", field={"path": "spec.replicas", "atLeast": 2}),
    rule("list-at-least", "Bronze", field={"path": "spec.deployedIn", "atLeast": 2}),
    rule("owner", "Bronze", relation={"type": "ownedBy", "kind": "Team"}),
    rule("documented", "Bronze", relation={"type": "documents", "direction": "incoming",
                                           "kind": "Documentation"}),
    rule("deployed", "Bronze", relation={"type": "deployedIn", "atLeast": 2}),
    rule("slug", "Bronze", annotation="github.com/project-slug"),
    rule("any-link", "Bronze", link={}),
    rule("runbook-link", "Bronze", link={"matches": "(?i)runbook"}),
    rule("fresh", "Bronze", git={"committedWithinDays": 30}),
    rule("authors", "Bronze", git={"authorsAtLeast": 1}),
    rule("two-authors", "Bronze", git={"authorsAtLeast": 2}),
    rule("sql", "Bronze", sql="SELECT ref, name = 'rich' AS passed, 'named ' || name AS reason "
                              "FROM entities WHERE kind = 'Service'"),
]


def test_every_check_passes_for_the_rich_service_and_fails_for_the_bare_one(tmp_path: Path):
    catalog = make_repo(tmp_path / "repo", {
        "teams.yaml": TEAM, "docs.yaml": DOCS, "envs.yaml": ENVS,
        "services.yaml": [RICH, BARE], "card.yaml": [scorecard("all", CHECKS)]})
    con = scored(catalog, tmp_path / "out")
    found = results(con, "all")
    for check in CHECKS:
        rule_id = check["id"]
        expect_rich = rule_id != "two-authors"
        assert found[(RICH_REF, rule_id)][0] is expect_rich, (rule_id, found[(RICH_REF, rule_id)])
        expect_bare = rule_id in ("fresh", "authors")
        assert found[(BARE_REF, rule_id)][0] is expect_bare, (rule_id, found[(BARE_REF, rule_id)])
    assert found[(BARE_REF, "one-of")][1] == \
        "spec.lifecycle is 'experimental', expected one of production, development"
    assert found[(BARE_REF, "exists")][1] == "metadata.description is missing"
    assert found[(BARE_REF, "at-least")][1] == "spec.replicas is 1.0, expected at least 2"
    assert found[(BARE_REF, "sql")][1] == "named bare"
    assert found[(RICH_REF, "two-authors")][1] == "1 author(s), expected at least 2"
    assert found[(BARE_REF, "runbook-link")][1] == "no link matching (?i)runbook"
    # Only the scorecard's kinds are scored.
    assert {ref for ref, _rule in found} == {RICH_REF, BARE_REF}


def test_a_rule_whose_sql_fails_fails_alone_with_the_reason(tmp_path: Path):
    catalog = make_repo(tmp_path / "repo", {"services.yaml": [RICH, BARE], "card.yaml": [
        scorecard("broken", [
            rule("ok", "Bronze", field={"path": "spec.type", "exists": True}),
            rule("div", "Bronze", sql="SELECT ref, (1 // 0) > 0 AS passed, 'x' AS reason "
                                      "FROM entities"),
            rule("missing", "Bronze", sql="SELECT ref, true AS passed, 'x' AS reason "
                                          "FROM entities WHERE name = 'rich'")])]})
    con = scored(catalog, tmp_path / "out")
    found = results(con, "broken")
    assert found[(RICH_REF, "ok")][0] is True
    assert found[(BARE_REF, "missing")] == (False, "not returned by the rule's query")
    assert found[(RICH_REF, "missing")][0] is True
    passed, reason = found[(RICH_REF, "div")]
    assert passed is False and reason.startswith("the rule's query failed")


def test_filters_narrow_the_entities_scored(tmp_path: Path):
    catalog = make_repo(tmp_path / "repo", {"services.yaml": [RICH, BARE], "card.yaml": [
        scorecard("prod-only", [rule("typed", "Bronze", field={"path": "spec.type",
                                                                "exists": True})],
                  filter={"lifecycle": ["production"]})]})
    con = scored(catalog, tmp_path / "out")
    assert set(levels(con, "prod-only")) == {RICH_REF}
