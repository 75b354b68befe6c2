"""What entity pages show of Backstage's model: relation wording, parts and what a Group or
User owns, and the annotations Backstage users rely on (repository, source, edit and ArgoCD).

Backstage stores each relation in both directions, so an incoming edge whose inverse is
already an outgoing edge of the page's entity is not listed twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..structure.backstage import REF_FIELDS
from .urls import safe_url

INVERSE: dict[str, str] = {}
for _fields in REF_FIELDS.values():
    for _field in _fields:
        INVERSE[_field.forward] = _field.inverse
        INVERSE[_field.inverse] = _field.forward

EDGE_LABELS = {
    "ownerOf": ("owner of", "owned by"),
    "partOf": ("part of", "has part"),
    "hasPart": ("has part", "part of"),
    "apiProvidedBy": ("API provided by", "provides API"),
    "apiConsumedBy": ("API consumed by", "consumes API"),
    "dependencyOf": ("dependency of", "depends on"),
    "memberOf": ("member of", "has member"),
    "hasMember": ("has member", "member of"),
    "childOf": ("child of", "parent of"),
    "parentOf": ("parent of", "child of"),
}
"""Backstage's relation names as (outgoing, incoming) wording, like pages.EDGE_LABELS."""

OWNER_KINDS = ("team", "group", "user")
"""Kinds whose page lists what they own."""
PART_KINDS = ("system", "domain", "component")
"""Kinds whose page lists their parts (Backstage's partOf)."""


def new_incoming(incoming: Iterable[tuple[str, str]], outgoing: Iterable[tuple[str, str]]
                 ) -> list[tuple[str, str]]:
    """The incoming edges not already shown as the inverse outgoing edge."""
    shown = set(outgoing)
    return [(type_, other) for type_, other in incoming
            if INVERSE.get(type_) is None or (INVERSE[type_], other) not in shown]


def source_links(annotations: dict[str, object]) -> list[dict[str, str | None]]:
    """Links Backstage draws from annotations: the GitHub repository, the source location,
    the view and edit URLs. Only http(s) URLs become links."""
    links: list[dict[str, str | None]] = []
    slug = annotations.get("github.com/project-slug")
    if isinstance(slug, str) and slug.count("/") == 1 and " " not in slug:
        links.append(_link("Repository", f"https://github.com/{slug}"))
    location = annotations.get("backstage.io/source-location")
    if isinstance(location, str) and location.startswith("url:"):
        links.append(_link("Source", location[len("url:"):]))
    for key, title in (("backstage.io/view-url", "View source"),
                       ("backstage.io/edit-url", "Edit")):
        value = annotations.get(key)
        if isinstance(value, str):
            links.append(_link(title, value))
    return links


def _link(title: str, url: str) -> dict[str, str | None]:
    return {"title": title, "url": safe_url(url), "raw": url}


def argocd_rows(annotations: dict[str, object]) -> list[tuple[str, str, str | None]]:
    """Backstage's ArgoCD plugin annotations as rows of the ArgoCD card."""
    rows = []
    for label, key in (("Application", "argocd/app-name"), ("App selector", "argocd/app-selector"),
                       ("Instance", "argocd/instance-name")):
        value = annotations.get(key)
        if isinstance(value, str) and value:
            rows.append((label, value, None))
    return rows
