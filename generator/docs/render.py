"""One Markdown page to sanitised HTML, with its title, table of contents and references.

markdown-it-py (CommonMark plus GitHub tables and strikethrough) with the mdit-py-plugins
for admonitions (`!!! note`, as MkDocs writes them), task lists, heading anchors and front
matter; Pygments colours fenced code. Relative links between pages and to images are
rewritten to where the pages and files land in the built site. Whatever the Markdown or
its raw HTML held, the result passes nh3's allow-list last: no scripts, no event handlers,
no `javascript:` or `data:` URLs, no frames.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .sources import INDEX_NAMES, MARKDOWN_SUFFIXES, page_slug

FILES_FOLDER = "_files"
"""Where a docs folder's images and other files are copied, beside its pages."""
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "input", "kbd", "li", "mark", "ol", "p", "pre", "s", "samp", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "input": {"checked", "disabled"},
    "th": {"style", "align"}, "td": {"style", "align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_FORMATTER = HtmlFormatter(nowrap=True)


def sanitise(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes (see docs/docs-as-code.md)."""
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        filter_style_properties={"text-align"}, link_rel="noopener",
        tag_attribute_values={"input": {"type": {"checkbox"}}},
    )


@lru_cache(maxsize=256)
def _lexer(language: str):
    """Pygments looks a name up through every installed lexer plugin: once per language."""
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def _highlight(code: str, language: str, _attrs: str) -> str:
    """Pygments spans for a fenced block; '' lets markdown-it escape an unknown language."""
    lexer = _lexer(language.split()[0].lower()) if language.strip() else None
    if lexer is None:
        return ""
    return highlight(code, lexer, _FORMATTER)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(admon_plugin).use(tasklists_plugin)
    md.use(anchors_plugin, min_level=1, max_level=4)
    return md


_MD = _parser()


@dataclass(slots=True)
class Reference:
    """A relative link or image in a page: as written, where (1-based line and column in
    the Markdown file), and the file it names inside the docs (None: nothing there)."""

    kind: str
    target: str
    line: int
    column: int
    found: str | None


@dataclass(slots=True)
class RenderedPage:
    html: str
    title: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


def docs_prefix(slug: str) -> str:
    """From the page of `slug` back to the docs' root folder."""
    return "../" * (slug.count("/") + 1) if slug else ""


def page_href(from_slug: str, to_slug: str) -> str:
    """Link from one docs page to another, naming index.html (works from file://)."""
    return docs_prefix(from_slug) + (quote(to_slug) + "/" if to_slug else "") + "index.html"


def file_href(from_slug: str, file: str) -> str:
    return f"{docs_prefix(from_slug)}{FILES_FOLDER}/{quote(file)}"


def _is_relative(url: str) -> bool:
    if not url or url.startswith(("#", "/", "\\")):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def _resolve(page_file: str, written: str, markdown: set[str], files: set[str]) -> str | None:
    """The file (relative to the Markdown root) a relative URL names, or None."""
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_file), unquote(written)))
    if target == "." or target.startswith("../"):
        target = target if target != "." else ""
    if target in files:
        return target
    for name in INDEX_NAMES:
        candidate = f"{target}/{name}" if target else name
        if candidate in markdown:
            return candidate
    return None


def _position(lines: list[str], token: Token | None, needle: str) -> tuple[int, int]:
    start, end = (token.map if token is not None and token.map else (0, len(lines)))
    for number in range(start, min(max(end, start + 1), len(lines))):
        column = lines[number].find(needle)
        if column >= 0:
            return number + 1, column + 1
    return start + 1, 1


def _plain(children: list[Token] | None) -> str:
    return "".join(child.content for child in children or () if child.type in (
        "text", "code_inline"))


def render_page(text: str, page_file: str, markdown: set[str], files: set[str], *,
                html: bool = True) -> RenderedPage:
    """Render the Markdown `text` of `page_file` (relative to the docs' Markdown root);
    `markdown` and `files` name what exists there, for link rewriting and checks.
    `html=False` only parses (title, contents, references): what validation needs."""
    env: dict = {}
    tokens = _MD.parse(text, env)
    lines = text.splitlines()
    slug = page_slug(page_file)
    references: list[Reference] = []
    toc: list[tuple[int, str, str]] = []
    title = ""
    block: Token | None = None
    for index, token in enumerate(tokens):
        if token.map:
            block = token
        if token.type == "heading_open":
            inline = tokens[index + 1]
            level = int(token.tag[1])
            heading = _plain(inline.children)
            if level == 1 and not title:
                title = heading
            elif level in (2, 3):
                toc.append((level, str(token.attrGet("id") or ""), heading))
        for child in token.children or ():
            attr = {"link_open": "href", "image": "src"}.get(child.type)
            if attr is None:
                continue
            written = str(child.attrGet(attr) or "")
            if not _is_relative(written):
                continue
            path, _, fragment = written.partition("#")
            path = path.partition("?")[0]
            kind = "image" if child.type == "image" else "link"
            if not path:
                continue
            found = _resolve(page_file, path, markdown, files)
            line, column = _position(lines, block, written)
            references.append(Reference(kind, written, line, column, found))
            if found is None:
                continue
            if found.endswith(MARKDOWN_SUFFIXES) and kind == "link":
                href = page_href(slug, page_slug(found))
            else:
                href = file_href(slug, found)
            child.attrSet(attr, href + (f"#{fragment}" if fragment else ""))
    if not html:
        return RenderedPage("", title, toc, references)
    rendered = _MD.renderer.render(tokens, _MD.options, env)
    return RenderedPage(sanitise(rendered), title, toc, references)


def pygments_css(scope: str = ".docs-body") -> str:
    """The colours of highlighted code, for the shared stylesheet."""
    return HtmlFormatter().get_style_defs(f"{scope} pre code")


_HEADING_TEXT = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def first_heading(text: str) -> str:
    """The first level-one heading of a Markdown text, without rendering it."""
    match = _HEADING_TEXT.search(text)
    return match.group(1) if match else ""
