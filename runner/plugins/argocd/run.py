"""One discovery pass: read every instance, plan the catalog change, write one commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.catalog.git import Identity

from .client import ArgoCDClient
from .config import ArgoCDConfig
from .discovery import Change, DiscoveredApp, plan, summary
from .writer import CatalogView, catalog_head, read_catalog, render, write_and_commit

COMMIT_TITLE = "Discover ArgoCD applications"


@dataclass
class DiscoveryResult:
    changes: list[Change] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    commit: str | None = None
    summary: str = ""
    app_count: int = 0


def fetch_apps(config: ArgoCDConfig, timeout: float = 15.0) -> list[DiscoveredApp]:
    """Every Application of every instance, instances in configuration order, apps by name.

    Any instance failing raises `ArgoCDError`: a partial picture is never written.
    """
    found: list[DiscoveredApp] = []
    for instance in config.instances:
        with ArgoCDClient(instance, timeout=timeout) as client:
            apps = client.list_applications()
        apps.sort(key=lambda app: str((app.get("metadata") or {}).get("name") or ""))
        found += [DiscoveredApp(instance.name, app) for app in apps]
    return found


def discover(root: Path, config: ArgoCDConfig, author: Identity,
             apps: list[DiscoveredApp] | None = None,
             view: CatalogView | None = None) -> DiscoveryResult:
    """Merge the discovered Services into the catalog at `root` as one commit (or none).

    `view` is what the catalog holds (read from the files when not given); the commit is
    made on top of the HEAD read before it, or refused when HEAD moved since.
    """
    if apps is None:
        apps = fetch_apps(config)
    head = catalog_head(root)
    if view is None:
        view = read_catalog(root)
    changes = plan(apps, label_key=config.label_key, environments=view.environments,
                   services=view.services)
    text = summary(changes, instances=[i.name for i in config.instances], app_count=len(apps))
    result = DiscoveryResult(changes=changes, summary=text, app_count=len(apps))
    if not changes:
        return result
    texts = render(root, changes)
    result.paths = sorted(texts)
    result.commit = write_and_commit(root, texts, f"{COMMIT_TITLE}\n\n{text}", author, head)
    return result
