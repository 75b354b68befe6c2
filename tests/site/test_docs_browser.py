"""In Chromium: a docs page opens under a sub-path, a relative link leads to the next page,
the search box finds a docs page and names the entity it belongs to, and the same pages
work from file://."""

from __future__ import annotations

import pytest

from tests.site.test_browser import browser, page, site_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
RUNBOOK = "catalog/documentation/default/payment-api-runbook"


def test_docs_page_link_and_search(page, site_url, example):  # noqa: F811
    page.goto(site_url + RUNBOOK + "/index.html")
    page.locator(".entity-tabs a", has_text="Docs").click()
    page.wait_for_url(f"**/{RUNBOOK}/docs/index.html")
    assert page.locator(".docs-body h1").inner_text() == "Payment API runbook"
    assert page.locator(".admonition.warning").is_visible()
    page.locator(".docs-body a", has_text="recovery steps").click()
    page.wait_for_url(f"**/{RUNBOOK}/docs/recovery/index.html#restart-the-pods")
    assert page.locator("#restart-the-pods").is_visible()
    assert page.locator('.docs-nav a[aria-current="page"]').inner_text() == "Recovery steps"
    page.locator(".crumbs a", has_text="Payment API Runbook").click()
    page.wait_for_url(f"**/{RUNBOOK}/index.html")

    page.goto(site_url + "search/index.html")
    page.locator("#search-input").type("settlement batch", delay=30)
    result = page.locator('#search-results a[href*="/docs/recovery/"]').first
    result.wait_for(timeout=20_000)
    item = page.locator("#search-results li").filter(
        has=page.locator('a[href*="/docs/recovery/"]')).first
    assert "in Payment API Runbook" in item.inner_text()
    assert result.inner_text() == "Recovery steps"
    result.click()
    page.wait_for_url(f"**/{RUNBOOK}/docs/recovery/index.html*")

    page.goto((example.site / RUNBOOK / "docs" / "index.html").as_uri())
    page.locator(".docs-nav a", has_text="Alerts").click()
    page.wait_for_url(f"**/{RUNBOOK}/docs/alerts/index.html")
    assert page.locator(".docs-body h1").inner_text() == "Alerts"
