"""Dashboard settings: read by anyone, changed by admins as one commit to gantry.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.runner_process import RunnerProcess, git, http

NEW = {
    "widgets": [{"id": "announcements", "enabled": True},
                {"id": "entity_stats", "enabled": True},
                {"id": "recent_activity", "enabled": False}],
    "announcements": [{"title": "Freeze week", "message": "No deploys until Monday",
                       "severity": "critical"}],
}


@pytest.fixture
def dashboard_runner(runner: RunnerProcess) -> RunnerProcess:
    return runner


def test_any_user_reads_the_settings_of_gantry_yaml(runner: RunnerProcess, make_user,
                                                    runner_repo: Path) -> None:
    import yaml

    _, token = make_user("viewer")
    response = http.get(runner.url("/api/v1/dashboard/config"), headers=runner.auth(token))
    assert response.status_code == 200
    on_disk = yaml.safe_load((runner_repo / "gantry.yaml").read_text()) or {}
    body = response.json()
    assert body["widgets"] == on_disk.get("widgets", [])
    assert body["announcements"] == on_disk.get("announcements", [])


def test_admin_update_is_one_commit_that_keeps_comments(dashboard_runner: RunnerProcess
                                                        ) -> None:
    runner = dashboard_runner
    repo = runner.catalog.parent
    before_text = (repo / "gantry.yaml").read_text()
    comments = [line for line in before_text.splitlines() if line.lstrip().startswith("#")]
    head_before = git(repo, "rev-parse", "HEAD").strip()

    response = http.put(runner.url("/api/v1/dashboard/config"), headers=runner.auth(), json=NEW)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["announcements"] == NEW["announcements"]
    commit = body["commit"]

    assert git(repo, "rev-parse", "HEAD").strip() == commit
    assert git(repo, "rev-parse", f"{commit}^").strip() == head_before
    assert git(repo, "show", "-s", "--format=%an <%ae>", commit).strip() == \
        "admin <admin@users.gantry>"
    assert git(repo, "show", "--name-only", "--format=", commit).split() == ["gantry.yaml"]
    after_text = (repo / "gantry.yaml").read_text()
    assert git(repo, "show", f"{commit}:gantry.yaml") == after_text
    for line in comments:
        assert line in after_text, f"comment lost: {line}"
    if "title:" in before_text.split("widgets:")[0]:
        assert before_text.split("widgets:")[0] == after_text.split("widgets:")[0]
    assert git(repo, "status", "--porcelain").strip() == ""

    read = http.get(runner.url("/api/v1/dashboard/config"), headers=runner.auth()).json()
    assert read["widgets"] == NEW["widgets"]
    home = http.get(runner.url("/")).text
    assert "Freeze week" in home

    audit = http.get(runner.url("/api/v1/audit"), headers=runner.auth()).json()
    entry = next(e for e in audit if e["resourceType"] == "DashboardConfig")
    assert entry["commit"] == commit and entry["after"]["announcements"] == NEW["announcements"]

    again = http.put(runner.url("/api/v1/dashboard/config"), headers=runner.auth(), json=NEW)
    assert again.status_code == 200 and again.json()["commit"] is None
    assert git(repo, "rev-parse", "HEAD").strip() == commit


@pytest.mark.parametrize("body, needle", [
    ({"colour": "red"}, "unknown dashboard setting"),
    ({}, "at least one"),
    ({"widgets": "all"}, "must be a list"),
    ({"widgets": [{"id": ""}]}, "widgets[0].id"),
    ({"widgets": [{"id": "x", "enabled": "yes"}]}, "enabled"),
    ({"announcements": [{"title": "t", "message": "m", "severity": "loud"}]}, "severity"),
    ({"announcements": [{"title": "t"}]}, "message"),
    ({"quickLinks": [{"title": "t", "url": "javascript:alert(1)"}]}, "http"),
    ({"announcements": [{"title": "t", "message": "m", "extra": 1}]}, "unknown field"),
])
def test_invalid_settings_are_400_and_commit_nothing(dashboard_runner: RunnerProcess,
                                                     body: dict, needle: str) -> None:
    repo = dashboard_runner.catalog.parent
    head = git(repo, "rev-parse", "HEAD")
    text = (repo / "gantry.yaml").read_text()
    response = http.put(dashboard_runner.url("/api/v1/dashboard/config"),
                        headers=dashboard_runner.auth(), json=body)
    assert response.status_code == 400 and needle in response.json()["error"]
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / "gantry.yaml").read_text() == text


def test_only_admins_change_the_dashboard(runner: RunnerProcess, make_user) -> None:
    _, token = make_user("platform-engineer")
    response = http.put(runner.url("/api/v1/dashboard/config"), headers=runner.auth(token),
                        json=NEW)
    assert response.status_code == 403
    assert http.put(runner.url("/api/v1/dashboard/config"), json=NEW).status_code == 401
    assert http.get(runner.url("/api/v1/dashboard/config")).status_code == 401
