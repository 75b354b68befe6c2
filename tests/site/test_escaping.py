"""Nothing written in the catalog runs as script or breaks out of its place on a page.

The catalog here is crafted and indexed directly (the validator may refuse some of it):
the site must be safe whatever the index holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.index.build import build_index
from generator.site.build import build_site
from tests.site.htmltools import Page

EVIL_SERVICE = """\
apiVersion: gantry.io/v1
kind: Service
metadata:
  name: evil
  title: 'Evil "onmouseover="alert(1)" <b>bold</b>'
  description: "<script>alert('description')</script></script><img src=x onerror=alert(2)>"
  owner: team-x
  tags: ["</script><script>alert(3)</script>", "ok"]
  labels:
    note: "<img src=x onerror=alert(4)>"
  annotations:
    argocd.io/appName: "<script>alert(5)</script>"
    argocd.io/repoURL: "javascript:alert(6)"
    example.com/x: "\\"><svg onload=alert(7)>"
  links:
    - title: Click me
      url: "javascript:alert(8)"
    - title: Data
      url: "data:text/html,<script>alert(9)</script>"
    - title: Spaced
      url: " JaVaScRiPt:alert(10)"
    - title: Fine
      url: https://example.com/ok?a=1&b=2
spec:
  type: backend
  lifecycle: production
  repoUrl: "javascript:alert(11)"
  healthCheckUrl: "data:text/html;base64,PHNjcmlwdD5hbGVydCgxMik8L3NjcmlwdD4="
  dependsOn:
    - kind: Service
      name: plain
---
apiVersion: gantry.io/v1
kind: Service
metadata:
  name: plain
  title: Plain </title><script>alert(13)</script>
spec:
  type: backend
---
apiVersion: gantry.io/v1
kind: Team
metadata:
  name: team-x
  title: "Team <script>alert(14)</script>"
spec:
  members:
    - name: "<b>mallory</b>"
      email: "x@example.com\\"><script>alert(15)</script>"
---
apiVersion: gantry.io/v1
kind: Action
metadata:
  name: evil-action
  title: "</script><script>alert(16)</script>"
  description: Runs
spec:
  type: webhook
  category: "<i>cat</i>"
  inputs:
    - name: service
      title: "<script>alert(17)</script>"
      type: string
      default: "\\"><script>alert(18)</script>"
    - name: choice
      type: select
      options: ["</script><script>alert(19)</script>", "b"]
  config:
    url: https://hooks.example.com/x
"""


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evil")
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "evil.yaml").write_text(EVIL_SERVICE, encoding="utf-8")
    index = root / "catalog.duckdb"
    build_index(catalog, index)
    site = root / "site"
    config = {"title": "Portal <script>alert(20)</script>",
              "announcements": [{"title": "<script>alert(21)</script>", "message": "m",
                                 "url": "javascript:alert(22)"}],
              "quickLinks": [{"title": "bad", "url": "javascript:alert(23)"}],
              "runnerUrl": "javascript:alert(24)"}
    build_site(index, catalog, site, config=config)
    return site


def _pages(site: Path) -> list[Path]:
    return [p for p in site.rglob("*.html") if "pagefind" not in p.parts]


def test_no_script_from_yaml_runs(evil_site):
    pages = _pages(evil_site)
    assert len(pages) >= 8
    for path in pages:
        html = path.read_text()
        page = Page(html)
        for attributes in page.scripts:
            src = attributes.get("src", "").split("?")[0]
            assert re.fullmatch(r"(\.\./)*static/(catalog|action|search)\.js|catalog-data\.js",
                                src) or (not src and attributes.get("type") ==
                                         "application/json"), (path, attributes)
        # every <script ...> tag in the file is one the templates wrote
        tags = re.findall(r"<script\b[^>]*>", html, flags=re.I)
        assert len(tags) == len(page.scripts), path
        for tag, attributes in page.elements:
            for name in attributes:
                assert not name.startswith("on"), (path, tag, name)
        assert "alert(" not in "".join(a.get("href", "") for _, a in page.elements)


def test_dangerous_urls_are_not_links(evil_site):
    for path in _pages(evil_site):
        for link in Page(path.read_text()).links():
            assert not re.match(r"\s*(javascript|data|vbscript):", link, re.I), (path, link)
    page = Page((evil_site / "catalog/service/default/evil/index.html").read_text())
    assert "https://example.com/ok?a=1&b=2" in page.links()
    assert "link refused" in page.text
    assert "javascript:alert(11)" in page.text  # shown as text, not a link


def test_text_is_shown_escaped(evil_site):
    html = (evil_site / "catalog/service/default/evil/index.html").read_text()
    assert "&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(4)&gt;" in html
    assert 'Evil &#34;onmouseover=&#34;alert(1)&#34; &lt;b&gt;bold&lt;/b&gt;' in html
    plain = (evil_site / "catalog/service/default/plain/index.html").read_text()
    assert "<title>Plain &lt;/title&gt;&lt;script&gt;" in plain


def test_embedded_json_cannot_close_its_script(evil_site):
    html = (evil_site / "actions/evil-action/index.html").read_text()
    body = re.search(r'<script type="application/json" id="action-spec">(.*?)</script>',
                     html, re.S).group(1)
    assert "<" not in body
    spec = json.loads(body)
    assert spec["runnerUrl"] is None  # a javascript: runner URL is ignored
    data = (evil_site / "catalog" / "catalog-data.js").read_text()
    assert "</script" not in data.lower() and "<" not in data
    payload = json.loads(data.removeprefix("window.GANTRY_CATALOG=").rstrip(";\n"))
    assert any("</script><script>alert(3)</script>" in row[6] for row in payload["rows"])


def test_svg_labels_are_escaped(evil_site):
    html = (evil_site / "catalog/service/default/plain/index.html").read_text()
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<script" not in svg and "&lt;b&gt;bold" in svg
