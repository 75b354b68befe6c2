"""The example catalog rendered: each page shows what it should."""

from __future__ import annotations

import json
import re

from tests.site.htmltools import Page

PAYMENT = "catalog/service/default/payment-api/index.html"


def test_every_entity_has_a_page(example):
    import duckdb

    con = duckdb.connect(str(example.index), read_only=True)
    rows = con.execute("SELECT lower(kind), namespace, name FROM entities").fetchall()
    con.close()
    assert len(rows) == example.stats.entity_pages > 40
    for kind, namespace, name in rows:
        assert (example.site / "catalog" / kind / namespace / name / "index.html").is_file()


def test_dashboard_counts_announcements_and_quick_links(example):
    page = Page(example.page("index.html"))
    assert "Acme Developer Portal" in page.text
    services = len(list((example.catalog / "Service").rglob("*.yaml")))
    counts = {a["href"]: a for a in page.find("a") if a["href"].startswith("catalog/index")}
    assert "catalog/index.html#kind=Service" in counts
    assert re.search(rf"\b{services} Service\b", page.text)
    assert "Scheduled Maintenance" in page.text and "Downtime on Saturday" in page.text
    hrefs = page.links()
    assert "https://grafana.acme.com" in hrefs
    entity_link = r"\./catalog/[a-z]+/[a-z0-9-]+/[a-z0-9-]+/index.html"
    recent = [h for h in hrefs if re.fullmatch(entity_link, h)]
    assert len(recent) == 10
    assert all((example.site / h).is_file() for h in recent)
    assert page.text.index("Scheduled Maintenance") < page.text.index("Entities by kind")


def test_dashboard_widgets_follow_config(tmp_path):
    from tests.site.conftest import build, example_config, make_repo

    config = example_config()
    config["widgets"] = [{"id": "quick_links", "enabled": False}, {"id": "entity_stats"}]
    built = build(make_repo(tmp_path / "repo"), config)
    text = Page(built.page("index.html")).text
    assert "Entities by kind" in text
    assert "Quick links" not in text and "Recently updated" not in text


def test_catalog_lists_every_entity_as_a_plain_link(example):
    page = Page(example.page("catalog/index.html"))
    hrefs = [a["href"] for a in page.find("a")]
    assert "../" + PAYMENT in hrefs
    rows = [h for h in hrefs if h.startswith("../catalog/") and h.count("/") == 5]
    assert len(rows) == example.stats.entity_pages
    data = (example.site / "catalog" / "catalog-data.js").read_text()
    payload = json.loads(data.removeprefix("window.GANTRY_CATALOG=").rstrip(";\n"))
    assert "Service" in payload["kinds"]
    names = {row[2] for row in payload["rows"]}
    assert "payment-api" in names and len(payload["rows"]) == example.stats.entity_pages
    for select in ("kind", "owner", "tag", "namespace", "lifecycle"):
        assert page.find("select", name=select)


def test_entity_page_overview(example):
    page = Page(example.page(PAYMENT))
    assert page.find("h1")
    text = page.text
    assert "Payment API" in text and "Handles all payment processing" in text
    assert "platform-team" in text and "production" in text
    assert "../../../../catalog/team/default/platform-team/index.html" in page.links()
    assert "tier" in text and "backend" in text  # labels
    assert "https://grafana.acme.com/d/payment-api" in page.links()  # metadata.links
    assert "../../../../catalog/index.html#tag=payments" in page.links()


def test_entity_page_draws_and_lists_relations(example):
    html = example.page(PAYMENT)
    svg = html[html.index("<svg"):html.index("</svg>")]
    neighbours = {
        "../../../../catalog/infrastructure/default/postgres-payments/index.html",
        "../../../../catalog/api/default/payments-rest/index.html",
        "../../../../catalog/team/default/platform-team/index.html",
        "../../../../catalog/service/default/order-service/index.html",  # incoming dependsOn
    }
    drawn = set(re.findall(r'<a href="([^"]+)"', svg))
    assert neighbours <= drawn
    plain = {a["href"] for a in Page(html[html.index("</svg>"):]).find("a")}
    assert neighbours <= plain
    assert "depends on" in svg and "needed by" in svg


def test_entity_page_yaml_with_repository_link(example):
    page = Page(example.page(PAYMENT))
    assert "apiVersion: gantry.io/v1" in page.text
    assert "name: payment-api" in page.text
    link = [h for h in page.links() if h.startswith("https://github.com/acme/portal/blob/")]
    assert link and link[0].startswith(
        "https://github.com/acme/portal/blob/main/catalog/Service/default/payment-api.yaml#L")


def test_entity_page_activity_from_git(example):
    page = Page(example.page(PAYMENT))
    assert "Import the catalog" in page.text
    assert "Site Tests" in page.text


def test_argocd_card(example):
    page = Page(example.page("catalog/service/default/order-service/index.html"))
    card = page.text[page.text.index("ArgoCD"):]
    assert "Synced" in card and "Healthy" in card
    assert "https://kubernetes.default.svc" in card
    plain = example.page("catalog/service/default/user-service/index.html")
    assert "argocd.io/" not in plain and 'id="s-argocd"' not in plain


def test_entity_page_offers_suitable_actions(example):
    page = Page(example.page(PAYMENT))
    assert "../../../../actions/deploy-service/index.html?service=payment-api" in page.links()
    team = Page(example.page("catalog/team/default/platform-team/index.html"))
    assert not [h for h in team.links() if "deploy-service/index.html?" in h]


def test_team_page_lists_what_it_owns(example):
    page = Page(example.page("catalog/team/default/platform-team/index.html"))
    assert "Owned by this team" in page.text
    assert "../../../../catalog/service/default/payment-api/index.html" in page.links()
    assert "alice@acme.com" in page.text
    teams = Page(example.page("teams/index.html"))
    assert "../catalog/team/default/platform-team/index.html" in teams.links()


def test_actions_index_and_deploy_service_form(example):
    listing = Page(example.page("actions/index.html"))
    assert "../actions/deploy-service/index.html" in listing.links()
    html = example.page("actions/deploy-service/index.html")
    page = Page(html)
    service = page.find("input", name="service")[0]
    assert service["type"] == "text" and "required" in service
    environment = page.find("select", name="environment")[0]
    assert "required" in environment
    options = [a["value"] for a in page.find("option") if a.get("value")]
    assert options == ["staging", "production"]
    dry_run = page.find("input", name="dry_run")[0]
    assert dry_run["type"] == "checkbox" and "checked" not in dry_run
    assert re.search(r'<textarea id="in-notes" name="notes" rows="4">', html)
    assert "required" not in re.search(r"<textarea[^>]*>", html).group(0)
    spec = json.loads(re.search(r'id="action-spec">(.*?)</script>', html).group(1))
    assert spec["runnerUrl"] is None and spec["action"] == "deploy-service"
    assert "No runner is configured" in page.text
    assert not page.find("button", type="submit")


def test_action_form_submits_to_runner_when_configured(tmp_path):
    from tests.site.conftest import build, example_config, make_repo

    config = {**example_config(), "runnerUrl": "https://gantry.acme.test/"}
    built = build(make_repo(tmp_path / "repo"), config)
    html = built.page("actions/deploy-service/index.html")
    spec = json.loads(re.search(r'id="action-spec">(.*?)</script>', html).group(1))
    assert spec["runnerUrl"] == "https://gantry.acme.test"
    assert Page(html).find("button", type="submit")
    script = (built.site / "static" / "action.js").read_text()
    assert "credentials: \"include\"" in script and "/api/v1/actions/" in script


def test_search_page_and_index(example):
    page = Page(example.page("search/index.html"))
    assert page.find("input", id="search-input")
    assert "../static/search.js" in " ".join(page.links())
    assert (example.site / "pagefind" / "pagefind.js").is_file()
    assert list((example.site / "pagefind").glob("fragment/*"))


def test_pages_are_small_and_share_assets(example):
    sizes = [p.stat().st_size for p in (example.site / "catalog").glob("*/*/*/index.html")]
    assert max(sizes) <= 60 * 1024
    assert example.stats.max_entity_page_bytes == max(sizes)
    html = example.page(PAYMENT)
    assert "<style" not in html and "static/site.css" in html
