"""Docs pages in the built site: under their entity with a nav and breadcrumbs, reachable
under a sub-path, re-rendered only when their folder changed."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from generator.site.build import build_site
from tests.site.conftest import build, git, make_repo
from tests.site.htmltools import Page
from tests.site.test_links import crawl

RUNBOOK = "catalog/documentation/default/payment-api-runbook"
ARCHITECTURE = "catalog/documentation/default/platform-architecture"


def test_docs_pages_sit_under_their_entity(example) -> None:
    entity = example.page(f"{RUNBOOK}/index.html")
    assert 'href="docs/index.html">Docs</a>' in entity
    home = example.page(f"{RUNBOOK}/docs/index.html")
    assert '<a href="../../../../../catalog/index.html">Catalog</a>' in home
    assert f'<a href="../../../../../{RUNBOOK}/index.html">Payment API Runbook</a>' in home
    assert '<div class="admonition warning">' in home
    assert 'href="recovery/index.html#restart-the-pods"' in home
    alerts = example.page(f"{RUNBOOK}/docs/alerts/index.html")
    assert 'href="../index.html" aria-current="page"' not in alerts
    assert '<a href="../alerts/index.html" aria-current="page">Alerts</a>' in alerts
    assert 'data-pagefind-meta="entity:Payment API Runbook"' in alerts
    arch = example.page(f"{ARCHITECTURE}/docs/index.html")
    assert 'src="_files/img/request-flow.svg"' in arch
    assert (example.site / ARCHITECTURE / "docs/_files/img/request-flow.svg").is_file()
    # a page without docs has no tab
    assert "entity-tabs" not in example.page("catalog/team/default/platform-team/index.html")


def test_mkdocs_nav_order_and_site_name(example) -> None:
    page = example.page("catalog/documentation/default/payments-rest-docs/docs/auth/index.html")
    nav = page[page.index('class="docs-nav"'):page.index("</nav>", page.index('"docs-nav"'))]
    assert nav.index("Overview") < nav.index("Authentication") < nav.index("Create a payment")
    assert "Payments API guide" in nav and 'class="docs-nav-section">Guides' in nav


def test_docs_links_work_under_a_sub_path(example, tmp_path, serve_under) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "handbook").symlink_to(example.site, target_is_directory=True)
    base = serve_under(www)
    seen, problems = crawl(f"{base}/handbook/{RUNBOOK}/docs/alerts/index.html", "/handbook/")
    assert problems == []
    paths = {urlsplit(url).path for url in seen}
    assert f"/handbook/{RUNBOOK}/docs/recovery/index.html" in paths
    assert f"/handbook/{ARCHITECTURE}/docs/_files/img/request-flow.svg" in paths
    assert "/handbook/static/docs.css" in paths


def test_largest_docs_page_is_small(example) -> None:
    sizes = [p.stat().st_size for p in example.site.glob("catalog/*/*/*/docs/**/index.html")]
    assert len(sizes) >= 8 and max(sizes) < 100_000


def test_techdocs_annotation_renders_the_folder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    catalog = repo / "catalog"
    (catalog / "orders").mkdir()
    (catalog / "orders" / "catalog-info.yaml").write_text(
        "apiVersion: gantry.io/v1\nkind: Service\nmetadata:\n  name: orders-svc\n"
        "  owner: platform-team\n  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
        "spec:\n  type: backend\n  lifecycle: production\n")
    (catalog / "orders" / "mkdocs.yml").write_text("site_name: Orders\nnav:\n  - index.md\n")
    (catalog / "orders" / "docs").mkdir()
    (catalog / "orders" / "docs" / "index.md").write_text(
        "# Orders\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "orders")
    built = build(repo)
    html = built.page("catalog/service/default/orders-svc/docs/index.html")
    assert "<h1" in html and "Orders" in html
    assert "<script>alert" not in html and "onerror" not in html


def test_incremental_docs(fresh_example) -> None:
    site, index, catalog = fresh_example.site, fresh_example.index, fresh_example.catalog
    assert sorted(fresh_example.stats.docs_rendered or []) == [
        "documentation:default/payment-api-runbook", "documentation:default/payments-rest-docs",
        "documentation:default/platform-architecture"]
    again = build_site(index, catalog, site, config=fresh_example.config)
    assert again.skipped and again.docs_rendered is None
    alerts = site / RUNBOOK / "docs/alerts/index.html"
    untouched = site / ARCHITECTURE / "docs/index.html"
    untouched_mtime = untouched.stat().st_mtime_ns
    page = catalog.parent / "catalog/docs/payment-api-runbook/alerts.md"
    page.write_text(page.read_text() + "\n## PaymentApiQueueStuck\n\nNew alert.\n")
    edited = build_site(index, catalog, site, config=fresh_example.config)
    assert edited.docs_rendered == ["documentation:default/payment-api-runbook"]
    assert edited.pages_written == 3  # the runbook's three pages; no entity page changed
    assert "PaymentApiQueueStuck" in alerts.read_text()
    assert untouched.stat().st_mtime_ns == untouched_mtime
    manifest = json.loads((site / ".gantry-docs.json").read_text())
    assert set(manifest) == set(fresh_example.stats.docs_rendered)
    assert build_site(index, catalog, site, config=fresh_example.config).skipped


def test_search_documents_include_docs_pages(example) -> None:
    fragments = list((example.site / "pagefind").rglob("*.pf_fragment"))
    assert fragments  # the bundle exists; the browser test searches it
    assert Page(example.page(f"{RUNBOOK}/docs/index.html")).links()
