"""Dashboard settings: read by anyone, changed by admins as one commit to gantry.yaml.

Contract checks, in process (the `api` app of tests/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.runner.inprocess import InProcessApp
from tests.support.runner_process import git

NEW = {
    "widgets": [{"id": "announcements", "enabled": True},
                {"id": "entity_stats", "enabled": True},
                {"id": "recent_activity", "enabled": False}],
    "announcements": [{"title": "Freeze week", "message": "No deploys until Monday",
                       "severity": "critical"}],
}


def test_any_user_reads_the_settings_of_gantry_yaml(api: InProcessApp, api_user) -> None:
    import yaml

    _, token = api_user("viewer")
    response = api.http.get(api.url("/api/v1/dashboard/config"), headers=api.auth(token))
    assert response.status_code == 200
    on_disk = yaml.safe_load((api.repo / "gantry.yaml").read_text()) or {}
    body = response.json()
    assert body["widgets"] == on_disk.get("widgets", [])
    assert body["announcements"] == on_disk.get("announcements", [])


def test_admin_update_is_one_commit_that_keeps_comments(api: InProcessApp) -> None:
    repo = api.repo
    before_text = (repo / "gantry.yaml").read_text()
    comments = [line for line in before_text.splitlines() if line.lstrip().startswith("#")]
    head_before = git(repo, "rev-parse", "HEAD").strip()

    response = api.http.put(api.url("/api/v1/dashboard/config"), headers=api.auth(), json=NEW)
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

    read = api.http.get(api.url("/api/v1/dashboard/config"), headers=api.auth()).json()
    assert read["widgets"] == NEW["widgets"]
    home = api.http.get(api.url("/")).text
    assert "Freeze week" in home

    audit = api.http.get(api.url("/api/v1/audit"), headers=api.auth()).json()
    entry = next(e for e in audit if e["resourceType"] == "DashboardConfig")
    assert entry["commit"] == commit and entry["after"]["announcements"] == NEW["announcements"]

    again = api.http.put(api.url("/api/v1/dashboard/config"), headers=api.auth(), json=NEW)
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
def test_invalid_settings_are_400_and_commit_nothing(api: InProcessApp, body: dict,
                                                     needle: str) -> None:
    repo = api.repo
    head = git(repo, "rev-parse", "HEAD")
    text = (repo / "gantry.yaml").read_text()
    response = api.http.put(api.url("/api/v1/dashboard/config"),
                            headers=api.auth(), json=body)
    assert response.status_code == 400 and needle in response.json()["error"]
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / "gantry.yaml").read_text() == text


def test_only_admins_change_the_dashboard(api: InProcessApp, api_user) -> None:
    _, token = api_user("platform-engineer")
    response = api.http.put(api.url("/api/v1/dashboard/config"), headers=api.auth(token),
                            json=NEW)
    assert response.status_code == 403
    assert api.http.put(api.url("/api/v1/dashboard/config"), json=NEW).status_code == 401
    assert api.http.get(api.url("/api/v1/dashboard/config")).status_code == 401
