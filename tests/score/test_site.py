"""Scorecards on the static site: entity badge and rule table, scorecard pages, widget."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from generator.index.build import build_index
from generator.site.build import build_site
from tests.index.conftest import document

from .conftest import make_repo, rule, scorecard, write_files

CARD = scorecard("readiness", [
    rule("typed", "Bronze", field={"path": "spec.type", "exists": True}),
    rule("owned", "Silver", relation={"type": "ownedBy"}),
    rule("probe", "Gold", field={"path": "spec.healthCheckUrl", "exists": True})])


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    catalog = make_repo(tmp_path / "repo", {
        "card.yaml": [CARD], "team.yaml": [document("Team", "owls")],
        "services.yaml": [
            document("Service", "gold-svc", owner="owls",
                     spec={"type": "backend", "healthCheckUrl": "https://g.example.com/h"}),
            document("Service", "silver-svc", owner="owls", spec={"type": "backend"}),
            document("Service", "lost-svc", spec={"lifecycle": "production"},
                     title="<b>Lost</b>")]})
    return catalog, tmp_path / "out"


def _build(catalog: Path, out: Path) -> Path:
    stats = build_index(catalog, out)
    build_site(stats.path, catalog, out / "site", changed_refs=stats.changed_refs)
    return out / "site"


def _text(page: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())


def test_entity_page_shows_level_and_every_rule_with_its_reason(site):
    out = _build(*site)
    gold = _text(out / "catalog/service/default/gold-svc/index.html")
    assert "Readiness" in gold or "readiness" in gold
    assert re.search(r"Gold score 100\.0", gold)
    page = _text(out / "catalog/service/default/silver-svc/index.html")
    assert "Silver score 66.7" in page
    assert "✗ Failed Rule probe Gold spec.healthCheckUrl is missing" in page
    assert "✓ Passed Rule typed Bronze spec.type is set" in page
    assert "✓ Passed Rule owned Silver 1 ownedBy relation(s) ✗" in page
    lost = _text(out / "catalog/service/default/lost-svc/index.html")
    assert "Below first level" in lost
    team = (out / "catalog/team/default/owls/index.html").read_text()
    assert "s-scores" not in team  # not scored: no section


def test_scorecard_pages_and_dashboard_widget(site):
    out = _build(*site)
    listing = _text(out / "scorecards/index.html")
    assert "3 entities by level" in listing
    page = (out / "scorecards/readiness/index.html").read_text()
    text = _text(out / "scorecards/readiness/index.html")
    assert "Gold 1 Silver 1 Bronze 0 Below first level 1" in text
    assert re.search(r"owls</a></th><td class=\"num\">2</td>", page)
    assert "No owner" in text
    assert text.index("Rule typed") < text.index("Rule owned")  # most failed first
    assert "<b>Lost</b>" not in page and "&lt;b&gt;Lost&lt;/b&gt;" in page
    assert 'href="../../catalog/service/default/lost-svc/index.html"' in page
    dashboard = _text(out / "index.html")
    assert "Scorecards" in dashboard and "3 entities by level" in dashboard


def test_a_changed_file_updates_the_scores_on_the_next_build(site):
    catalog, out_dir = site
    out = _build(catalog, out_dir)
    write_files(catalog, {"services.yaml": [
        document("Service", "gold-svc", owner="owls", spec={"type": "backend"}),
        document("Service", "silver-svc", owner="owls", spec={"type": "backend"}),
        document("Service", "lost-svc", spec={"lifecycle": "production"})]})
    out = _build(catalog, out_dir)
    assert "Silver score 66.7" in _text(out / "catalog/service/default/gold-svc/index.html")
    assert "Gold 0 Silver 2" in _text(out / "scorecards/readiness/index.html")
