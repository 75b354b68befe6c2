"""Markdown to HTML: the features the docs promise, link rewriting, and the sanitising that
keeps scripts out whatever the Markdown or its raw HTML holds."""

from __future__ import annotations

import re

import pytest

from generator.docs.render import render_page
from generator.docs.sources import page_slug

PAGES = {"index.md", "guide/setup.md", "guide/README.md", "ops.md"}
FILES = PAGES | {"img/flow.svg", "guide/shot.png"}


def render(text: str, page: str = "index.md"):
    return render_page(text, page, PAGES, FILES)


def test_tables_code_admonitions_tasks_and_anchors() -> None:
    page = render(
        "# Title\n\n## Set up\n\n### Details\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n"
        "```python\ndef f():\n    return 1\n```\n\n!!! warning \"Careful\"\n    Mind the gap.\n\n"
        "- [x] done\n- [ ] open\n")
    assert page.title == "Title"
    assert page.toc == [(2, "set-up", "Set up"), (3, "details", "Details")]
    assert '<h2 id="set-up">' in page.html
    assert "<table>" in page.html and 'style="text-align:right"' in page.html
    assert '<span class="k">def</span>' in page.html  # Pygments coloured the keyword
    assert '<div class="admonition warning">' in page.html and "Careful" in page.html
    assert page.html.count('type="checkbox"') == 2 and 'checked="checked"' in page.html


@pytest.mark.parametrize(("page", "link", "href"), [
    ("index.md", "guide/setup.md", "guide/setup/index.html"),
    ("index.md", "guide/setup.md#step-2", "guide/setup/index.html#step-2"),
    ("index.md", "guide/", "guide/index.html"),
    ("guide/setup.md", "../ops.md", "../../ops/index.html"),
    ("guide/setup.md", "README.md", "../../guide/index.html"),
    ("guide/setup.md", "../index.md", "../../index.html"),
    ("ops.md", "img/flow.svg", "../_files/img/flow.svg"),
])
def test_relative_links_point_at_the_built_pages(page: str, link: str, href: str) -> None:
    rendered = render(f"[go]({link})\n", page)
    assert f'href="{href}"' in rendered.html
    assert rendered.references[0].found is not None


def test_images_point_at_the_copied_files_and_missing_ones_are_reported() -> None:
    rendered = render("text\n\n![shot](shot.png) and ![gone](img/gone.png)\n",
                      "guide/setup.md")
    assert 'src="../../_files/guide/shot.png"' in rendered.html
    found = {ref.target: ref for ref in rendered.references}
    assert found["img/gone.png"].found is None
    gone = found["img/gone.png"]
    assert (gone.line, gone.column) == (3, 31)  # the target's first character
    from_index = render("![flow](img/flow.svg)\n")
    assert 'src="_files/img/flow.svg"' in from_index.html


def test_absolute_and_anchor_links_are_left_alone() -> None:
    rendered = render("[a](https://example.com/x) [b](#here) [c](mailto:a@b.c)\n")
    assert 'href="https://example.com/x"' in rendered.html
    assert 'href="#here"' in rendered.html
    assert rendered.references == []


def test_page_slugs() -> None:
    assert page_slug("index.md") == ""
    assert page_slug("README.md") == ""
    assert page_slug("guide/README.md") == "guide"
    assert page_slug("guide/setup.md") == "guide/setup"


PAYLOADS = [
    "<script>alert('x')</script>",
    '<img src="x.png" onerror="alert(1)">',
    '<a href="javascript:alert(2)">click</a>',
    "[click](javascript:alert(3))",
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(4)"><circle/></svg>',
    '<a href="JaVaScRiPt:alert(5)">x</a>',
    '<img src="data:text/html;base64,PHNjcmlwdD4=">',
    '<div style="background:url(javascript:alert(6))">s</div>',
    '<object data="x.swf"></object><embed src="y">',
    '<form action="https://evil.example"><input type="text" name="q"></form>',
    '<p onclick="alert(7)">para</p>',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_never_reach_the_page(payload: str) -> None:
    for text in (payload + "\n", f"Before\n\n{payload}\n\nAfter *x*\n",
                 f"- item {payload}\n", f"> {payload}\n"):
        html = render(text).html.lower()
        assert "<script" not in html
        assert "javascript:" not in html.replace("[click](javascript:alert(3))", "")
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), html
        for tag in ("<iframe", "<object", "<embed", "<form", "<svg", "style="):
            assert tag not in html, html
        assert "data:text" not in html


def test_markdown_link_to_javascript_stays_text() -> None:
    html = render("[click](javascript:alert(3))\n").html
    assert "<a" not in html and "click" in html


def test_escaped_code_shows_payloads_as_text() -> None:
    html = render("```\n<script>alert(1)</script>\n```\n\n`<img onerror=x>`\n").html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "&lt;img onerror=x&gt;" in html
