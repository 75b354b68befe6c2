"""A crawler walks the built site served under a sub-path and finds no broken link."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from tests.site.htmltools import Page


def crawl(start: str, prefix: str) -> tuple[set[str], list[str]]:
    """Every internal URL reachable from `start`, and the problems met on the way."""
    seen: set[str] = set()
    problems: list[str] = []
    queue = deque([(start, "start")])
    with httpx.Client(timeout=10, trust_env=False) as client:
        while queue:
            url, referrer = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            if response.status_code != 200:
                problems.append(f"{referrer} -> {url}: HTTP {response.status_code}")
                continue
            if not urlsplit(url).path.endswith(".html"):
                continue
            for link in Page(response.text).links():
                target, _ = urldefrag(urljoin(url, link))
                parts = urlsplit(target)
                if parts.scheme in ("mailto",) or parts.netloc != urlsplit(start).netloc:
                    continue
                if not parts.path.startswith(prefix):
                    problems.append(f"{url}: link {link!r} leaves {prefix}")
                    continue
                if parts.path.endswith("/"):
                    problems.append(f"{url}: link {link!r} names a folder (breaks file://)")
                queue.append((target, url))
    return seen, problems


def test_no_broken_links_under_a_sub_path(example, tmp_path, serve_under):
    www = tmp_path / "www"
    www.mkdir()
    (www / "portal").symlink_to(example.site, target_is_directory=True)
    base = serve_under(www)
    seen, problems = crawl(f"{base}/portal/index.html", "/portal/")
    assert problems == []
    pages = {urlsplit(u).path for u in seen}
    assert "/portal/catalog/service/default/payment-api/index.html" in pages
    assert "/portal/actions/deploy-service/index.html" in pages
    assert "/portal/search/index.html" in pages
    assert "/portal/static/site.css" in pages
    entity_pages = [p for p in pages if p.count("/") == 6 and p.startswith("/portal/catalog/")]
    assert len(entity_pages) == example.stats.entity_pages


def test_the_crawler_reports_a_broken_link(example, tmp_path, serve_under):
    www = tmp_path / "www"
    site = www / "portal"
    site.mkdir(parents=True)
    (site / "index.html").write_text('<a href="catalog/index.html">x</a><a href="/abs.html">y</a>'
                                     '<img src="missing.png">')
    (site / "catalog").mkdir()
    (site / "catalog" / "index.html").write_text('<a href="../index.html">home</a>')
    base = serve_under(www)
    _, problems = crawl(f"{base}/portal/index.html", "/portal/")
    assert any("missing.png: HTTP 404" in p for p in problems)
    assert any("leaves /portal/" in p for p in problems)


def test_site_has_no_external_assets(example):
    for path in Path(example.site).rglob("*.html"):
        if "pagefind" in path.parts:
            continue
        page = Page(path.read_text())
        for tag, attributes in page.elements:
            if tag in ("script", "img", "link") or (tag == "link" and "stylesheet" in
                                                      attributes.get("rel", "")):
                source = attributes.get("src") or (attributes.get("href")
                                                   if tag == "link" else "")
                assert not urlsplit(source or "").scheme, (path, source)
