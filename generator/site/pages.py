"""What each page shows: plain dictionaries handed to the templates, built from `SiteData`.

No I/O here except reading the entity's own lines from its catalog file for the YAML view.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import backstage
from .actions import form_fields, target_input
from .graph import Node, relations_svg
from .model import EntityRow, SiteData
from .repo import RepoInfo
from .score_rows import rule_rows
from .urls import entity_href, safe_url

MAX_YAML_CHARS = 20_000
"""YAML shown on an entity page; longer documents are cut, with a link to the full file."""
MAX_LISTED = 60
"""Neighbours listed per relation type and entities listed per kind on a team page."""
RECENT = 10
"""Entities in the dashboard's "recently updated" list."""
ARGOCD_FIELDS = (
    ("Application", "argocd.io/appName"),
    ("Sync", "argocd.io/syncStatus"),
    ("Health", "argocd.io/healthStatus"),
    ("Last sync", "argocd.io/lastSyncedAt"),
    ("Repository", "argocd.io/repoURL"),
    ("Destination namespace", "argocd.io/destNamespace"),
    ("Destination server", "argocd.io/destServer"),
    ("ArgoCD namespace", "argocd.io/namespace"),
)
EDGE_LABELS = {
    "dependsOn": ("depends on", "needed by"),
    "deployedIn": ("deployed in", "hosts"),
    "providesApi": ("provides API", "provided by"),
    "consumesApi": ("consumes API", "consumed by"),
    "ownedBy": ("owned by", "owns"),
    "documents": ("documents", "documented by"),
    **backstage.EDGE_LABELS,
}


class YamlReader:
    """Reads an entity's lines from its file, keeping the last file read (pages come in
    file order, so several documents of one file cost one read)."""

    def __init__(self, catalog_root: Path):
        self.catalog_root = Path(catalog_root)
        self._path: str | None = None
        self._lines: list[str] = []

    def lines(self, path: str, first: int, last: int) -> str:
        if path != self._path:
            self._path = path
            try:
                text = (self.catalog_root / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines = text.splitlines()
        chunk = self._lines[max(first - 1, 0): max(last, first)]
        while chunk and chunk[-1].strip() in ("", "---", "..."):
            chunk.pop()
        while chunk and chunk[0].strip() in ("---",):
            chunk.pop(0)
        return "\n".join(chunk)


@dataclass
class SiteContext:
    """Build-wide facts every page needs."""

    data: SiteData
    repo: RepoInfo
    config: dict[str, Any]
    runner_url: str | None
    asset_version: str
    actions_for_kind: dict[str, list[tuple[str, str, str]]]
    kind_names: dict[str, str]
    _hrefs: dict[str, str] = field(default_factory=dict)
    docs_refs: set[str] = field(default_factory=set)
    """Entities with rendered docs: their page gets a "Docs" tab."""

    def href(self, root: str, ref: str) -> str:
        """Link from a page with root prefix `root` to an entity page (cached per ref)."""
        tail = self._hrefs.get(ref)
        if tail is None:
            tail = self._hrefs[ref] = entity_href("", ref)
        return root + tail

    def kind_of(self, ref: str) -> str:
        row = self.data.entities.get(ref)
        if row is not None and row.kind:
            return row.kind
        return self.kind_names.get(ref.partition(":")[0], ref.partition(":")[0])


def make_site_context(data: SiteData, repo: RepoInfo, config: dict[str, Any],
                      asset_version: str) -> SiteContext:
    """Precompute what several pages share: kinds' display names and suitable actions."""
    kind_names: dict[str, str] = {}
    for row in data.entities.values():
        kind_names.setdefault(row.kind.lower(), row.kind)
    actions_for_kind: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for row in actions(data):
        spec = row.spec()
        for kind in kind_names.values():
            target = target_input(spec, kind)
            if target is not None:
                actions_for_kind[kind.lower()].append((row.name, row.display_name, target))
    return SiteContext(
        data=data, repo=repo, config=config, runner_url=runner_url(config),
        asset_version=asset_version, actions_for_kind=dict(actions_for_kind),
        kind_names=kind_names,
    )


def runner_url(config: dict[str, Any]) -> str | None:
    """The runner's base URL from gantry.yaml when it is an http(s) URL.

    "/" means the runner that serves the site itself (the page's own origin).
    """
    if config.get("runnerUrl") == "/":
        return "/"
    url = safe_url(config.get("runnerUrl"))
    return url.rstrip("/") if url and not url.startswith("mailto") else None


def actions(data: SiteData) -> list[EntityRow]:
    """Action entities sorted by title."""
    rows = [row for row in data.entities.values() if row.kind.lower() == "action"]
    return sorted(rows, key=lambda row: (row.display_name.lower(), row.ref))


def base(ctx: SiteContext, root: str, section: str, title: str) -> dict[str, Any]:
    return {
        "root": root, "section": section, "title": title,
        "site_title": str(ctx.config.get("title") or "Gantry"),
        "v": ctx.asset_version, "runner_url": ctx.runner_url,
    }


def _neighbours(ctx: SiteContext, ref: str, root: str) -> tuple[list[Node], list[Node], list]:
    data = ctx.data
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    incoming: list[Node] = []
    outgoing: list[Node] = []
    sides = (("out", data.outgoing.get(ref, ()), outgoing, 0),
             ("in", backstage.new_incoming(data.incoming.get(ref, ()),
                                           data.outgoing.get(ref, ())), incoming, 1))
    for direction, edges, nodes, wording in sides:
        for type_, other in edges:
            row = data.entities.get(other)
            label = row.display_name if row else other.rpartition("/")[2]
            href = ctx.href(root, other)
            nodes.append(Node(label, ctx.kind_of(other), href, EDGE_LABELS.get(
                type_, (type_, type_))[wording]))
            groups[(direction, type_)].append((label, href, other))
    listed = []
    for (direction, type_), members in sorted(groups.items()):
        words = EDGE_LABELS.get(type_, (type_, type_))
        listed.append({
            "label": words[0] if direction == "out" else words[1],
            "entries": members[:MAX_LISTED], "more": max(len(members) - MAX_LISTED, 0),
        })
    return incoming, outgoing, listed


def _argocd(annotations: dict[str, Any]) -> list[tuple[str, str, str | None]] | None:
    card = backstage.argocd_rows(annotations)
    if not card and not any(str(key).startswith("argocd.io/") for key in annotations):
        return None
    for label, key in ARGOCD_FIELDS:
        value = annotations.get(key)
        if value not in (None, ""):
            text = str(value)
            card.append((label, text, safe_url(text) if key.endswith("repoURL") else None))
    return card


def _spec_rows(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    skip = {"inputs", "config", "permissions", "members", "dependsOn", "deployedIn",
            "providesApis", "consumesApis", "relatedTo"}
    rows = []
    for key, value in spec.items():
        if key in skip or isinstance(value, dict):
            continue
        if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            continue
        rows.append((str(key), value))
    return rows


def entity_page(ctx: SiteContext, ref: str, reader: YamlReader,
                scores: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """Context of `/catalog/<kind>/<namespace>/<name>/`; `scores` are the entity's
    scorecard results (`score.read.scores_by_entity`)."""
    data = ctx.data
    row = data.entities[ref]
    root = "../../../../"
    metadata = row.metadata()
    spec = row.spec()
    annotations = row.annotations()
    incoming, outgoing, listed = _neighbours(ctx, ref, root)
    raw_links = metadata.get("links") if isinstance(metadata.get("links"), list) else []
    links = []
    for link in raw_links:
        if isinstance(link, dict):
            url = link.get("url")
            links.append({"title": str(link.get("title") or url or ""), "url": safe_url(url),
                          "raw": "" if url is None else str(url)})
    links = backstage.source_links(annotations) + links
    yaml_text = reader.lines(row.path, row.line, row.end_line)
    truncated = len(yaml_text) > MAX_YAML_CHARS
    commits = data.commits.get(row.path) or data.commits.get(ctx.repo.catalog_prefix + row.path)
    kind = row.kind.lower()
    owns = _sources(ctx, ref, root, "ownedBy") if kind in backstage.OWNER_KINDS else None
    parts = _sources(ctx, ref, root, "partOf") if kind in backstage.PART_KINDS else None
    members = spec.get("members") if isinstance(spec.get("members"), list) else []
    suited = [
        {"name": name, "title": title, "field": input_name,
         "href": f"{root}actions/{name}/index.html"
                 + (f"?{input_name}={row.name}" if input_name else "")}
        for name, title, input_name in ctx.actions_for_kind.get(row.kind.lower(), ())
    ]
    labels = row.labels()
    return {
        **base(ctx, root, "catalog", f"{row.display_name} · {row.kind}"),
        "e": row, "ref": ref, "links": links, "labels": sorted(labels.items()),
        "annotations": sorted(annotations.items()), "spec_rows": _spec_rows(spec),
        "svg": relations_svg(row.display_name, row.kind, incoming, outgoing),
        "relations": listed, "yaml": yaml_text[:MAX_YAML_CHARS], "yaml_truncated": truncated,
        "file_url": ctx.repo.file_url(row.path), "commits": commits or [],
        "argocd": _argocd(annotations), "owns": owns, "parts": parts,
        "members": [_member(m) for m in members if isinstance(m, dict)],
        "actions": suited,
        "owner_href": _owner_href(ctx, ref, root),
        "scores": [{**card, "href": f"{root}scorecards/{card['name']}/index.html",
                    "rank": _rank(card), "rule_rows": rule_rows(card["rules"])}
                   for card in scores],
        "docs_href": "docs/index.html" if ref in ctx.docs_refs else None,
    }


def _rank(card: dict[str, Any]) -> int:
    """1 for the first level, 0 below it: the badge's class, besides its text."""
    return card["levels"].index(card["level"]) + 1 if card.get("level") in card["levels"] \
        else 0


def _sources(ctx: SiteContext, ref: str, root: str, edge_type: str) -> list[dict[str, Any]]:
    """The entities with an `edge_type` edge to `ref` (what it owns, its parts), by kind."""
    by_kind: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for type_, source in ctx.data.incoming.get(ref, ()):
        if type_ == edge_type:
            found = ctx.data.entities.get(source)
            label = found.display_name if found else source
            by_kind[ctx.kind_of(source)].append((label, ctx.href(root, source)))
    return [{"kind": kind, "entries": items[:MAX_LISTED], "more": max(
        len(items) - MAX_LISTED, 0), "count": len(items)}
        for kind, items in sorted(by_kind.items())]


_EMAIL = re.compile(r"[^@\s<>\"'()]+@[A-Za-z0-9.-]+")


def _member(member: dict[str, Any]) -> dict[str, str | None]:
    email = str(member.get("email") or "")
    return {"name": str(member.get("name") or ""), "role": str(member.get("role") or ""),
            "email": email, "mailto": f"mailto:{email}" if _EMAIL.fullmatch(email) else None}


def _owner_href(ctx: SiteContext, ref: str, root: str) -> str | None:
    for type_, target in ctx.data.outgoing.get(ref, ()):
        if type_ == "ownedBy":
            return ctx.href(root, target)
    return None


def dashboard_page(ctx: SiteContext) -> dict[str, Any]:
    """Context of `/`: counts per kind, recently updated, announcements, quick links."""
    root = "./"
    counts = Counter(row.kind for row in ctx.data.entities.values())
    recent = sorted(
        (row for row in ctx.data.entities.values() if row.updated_at),
        key=lambda row: (row.updated_at, row.ref), reverse=True,
    )[:RECENT]
    config = ctx.config
    announcements = []
    for item in config.get("announcements") or []:
        if isinstance(item, dict):
            announcements.append({
                "title": str(item.get("title") or ""),
                "message": str(item.get("message") or item.get("body") or item.get("text") or ""),
                "level": str(item.get("level") or item.get("severity") or "info").lower(),
                "date": str(item.get("date") or ""),
                "url": safe_url(item.get("url") or item.get("link")),
            })
        elif isinstance(item, str):
            announcements.append({"title": "", "message": item, "level": "info", "date": "",
                                  "url": None})
    quick_links = []
    for item in config.get("quickLinks") or []:
        if isinstance(item, dict):
            url = item.get("url")
            quick_links.append({"title": str(item.get("title") or url or ""),
                                "url": safe_url(url), "raw": "" if url is None else str(url),
                                "description": str(item.get("description") or "")})
    order = widget_order(config.get("widgets"))
    return {
        **base(ctx, root, "home", "Dashboard"),
        "counts": sorted(counts.items()), "total": len(ctx.data.entities),
        "recent": [(row, entity_href(root, row.ref)) for row in recent],
        "announcements": announcements, "quick_links": quick_links, "widgets": order,
        "actions_count": sum(1 for _ in actions(ctx.data)),
        "scorecards": [{**card, "href": f"scorecards/{card['name']}/index.html"}
                       for card in ctx.data.scorecards],
    }


WIDGETS = ("announcements", "entity_stats", "quick_links", "recent_activity", "scorecards")
"""Dashboard widgets in their default order; gantry.yaml `widgets` picks and orders them."""


def widget_order(widgets: object) -> list[str]:
    """The widget ids to show, in order: `[{id, enabled}]` from gantry.yaml, unknown ids and
    `enabled: false` left out; every widget when the list is absent."""
    if not isinstance(widgets, list):
        return list(WIDGETS)
    order = []
    for item in widgets:
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict) or item.get("enabled") is False:
            continue
        if item.get("id") in WIDGETS and item["id"] not in order:
            order.append(item["id"])
    return order


def catalog_page(ctx: SiteContext, noscript_limit: int, data_version: str) -> dict[str, Any]:
    """Context of `/catalog/`: rows as plain links when the catalog is small enough."""
    root = "../"
    rows = None
    if len(ctx.data.entities) <= noscript_limit:
        rows = [(row, entity_href(root, row.ref)) for row in sorted(
            ctx.data.entities.values(), key=lambda r: (r.kind, r.namespace, r.name))]
    return {**base(ctx, root, "catalog", "Catalog"), "rows": rows,
            "total": len(ctx.data.entities), "limit": noscript_limit,
            "data_version": data_version}


def catalog_data(ctx: SiteContext) -> dict[str, Any]:
    """The catalog table's data for the filtering script: short arrays, kinds by index.

    Descriptions are left out (they would double the file at 100k entities); the search
    page covers full text."""
    kinds: list[str] = sorted({row.kind for row in ctx.data.entities.values()})
    position = {kind: i for i, kind in enumerate(kinds)}
    rows = [
        [position[row.kind], row.namespace, row.name, row.title, row.owner, row.lifecycle,
         row.tags]
        for row in sorted(ctx.data.entities.values(), key=lambda r: (r.kind, r.namespace, r.name))
    ]
    return {"kinds": kinds, "rows": rows}


def teams_page(ctx: SiteContext) -> dict[str, Any]:
    """Context of `/teams/`: each team with what it owns, linking to the team's page."""
    root = "../"
    owned = Counter(target for targets in ctx.data.outgoing.values()
                    for type_, target in targets if type_ == "ownedBy")
    teams = [
        {"row": row, "href": entity_href(root, row.ref), "owned": owned.get(row.ref, 0),
         "members": len(row.spec().get("members") or [])}
        for row in sorted(ctx.data.entities.values(), key=lambda r: (r.namespace, r.name))
        if row.kind.lower() == "team"
    ]
    return {**base(ctx, root, "teams", "Teams"), "teams": teams}


def actions_page(ctx: SiteContext) -> dict[str, Any]:
    """Context of `/actions/`: actions grouped by category."""
    root = "../"
    groups: dict[str, list] = defaultdict(list)
    for row in actions(ctx.data):
        spec = row.spec()
        groups[str(spec.get("category") or "Other")].append(
            {"row": row, "href": f"{root}actions/{row.name}/index.html",
             "type": str(spec.get("type") or "")})
    return {**base(ctx, root, "actions", "Actions"), "groups": sorted(groups.items())}


def action_page(ctx: SiteContext, row: EntityRow) -> dict[str, Any]:
    """Context of `/actions/<name>/`: the form, and how the same run looks on the CLI."""
    root = "../../"
    spec = row.spec()
    permissions = spec.get("permissions") if isinstance(spec.get("permissions"), dict) else {}
    fields = form_fields(spec)
    return {
        **base(ctx, root, "actions", f"{row.display_name} · Action"),
        "e": row, "fields": fields, "type": str(spec.get("type") or ""),
        "category": str(spec.get("category") or ""), "permissions": permissions,
        "entity_href": entity_href(root, row.ref),
        "form_spec": {
            "action": row.name, "runnerUrl": ctx.runner_url,
            "fields": [{"name": f.name, "type": f.type, "required": f.required}
                       for f in fields],
        },
    }


def search_page(ctx: SiteContext) -> dict[str, Any]:
    """Context of `/search/`."""
    return base(ctx, "../", "search", "Search")


def scorecards_page(ctx: SiteContext) -> dict[str, Any]:
    """Context of `/scorecards/`: every scorecard and its distribution across levels."""
    root = "../"
    return {**base(ctx, root, "scorecards", "Scorecards"),
            "cards": [{**card, "href": f"{card['name']}/index.html"}
                      for card in ctx.data.scorecards]}


def scorecard_page(ctx: SiteContext, card: dict[str, Any]) -> dict[str, Any]:
    """Context of `/scorecards/<name>/`: distribution, per team, most failed rules, and
    the entities with the lowest scores."""
    root = "../../"
    total = max(card["entityCount"], 1)
    teams = []
    for team in card["teams"]:
        owner = team["owner"] or ""
        ref = f"team:{owner}" if "/" in owner else f"team:default/{owner}"
        teams.append({**team, "href": entity_href(root, ref)
                      if ref in ctx.data.entities else None})
    return {**base(ctx, root, "scorecards", f"{card['title']} · Scorecard"), "card": card,
            "bars": [{**level, "percent": round(100 * level["count"] / total)}
                     for level in card["distribution"]],
            "teams": teams,
            "entities": [{**entity, "href": entity_href(root, entity["ref"])}
                         for entity in card["entities"]]}
