"""Where each page lives, and how one page links to another with relative URLs only.

Every page is a folder holding `index.html`, and links name that file explicitly
(`../../catalog/index.html`): the same build then works on any static host, under any
sub-path, and from `file://`, where a browser does not resolve a folder to its index.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from ..structure.entity import parse_ref

SAFE_SCHEMES = ("http", "https", "mailto")
"""URL schemes a link taken from the catalog may use; anything else is shown as text."""


def entity_dir(ref: str) -> str:
    """The folder of an entity's page, relative to the site root: `catalog/<kind>/<ns>/<name>`."""
    kind, namespace, name = parse_ref(ref)
    return f"catalog/{kind}/{namespace}/{name}"


def page_file(folder: str) -> str:
    """The file a folder's page is written to, relative to the site root."""
    return f"{folder}/index.html" if folder else "index.html"


def root_prefix(folder: str) -> str:
    """The relative path from a page in `folder` back to the site root (`../../` or `./`)."""
    depth = folder.count("/") + 1 if folder else 0
    return "../" * depth if depth else "./"


_UNQUOTED = re.compile(r"[A-Za-z0-9_.~/-]*")
"""What `quote` leaves as it is: most folders need no quoting, and matching is cheaper."""


def entity_href(root: str, ref: str) -> str:
    """Link from a page whose root prefix is `root` to an entity's page."""
    folder = entity_dir(ref)
    return f"{root}{folder if _UNQUOTED.fullmatch(folder) else quote(folder)}/index.html"


def safe_url(value: object) -> str | None:
    """The URL when it is an absolute http(s) or mailto URL, otherwise None.

    Catalog authors write links; a `javascript:` or `data:` URL must never become a
    clickable link, so only known-harmless schemes pass.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or any(ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url
