"""Turn ArgoCD Applications into Service entities and merge them into the catalog.

Everything here is pure: Applications in, entity dicts and a change list out. Reading the
catalog and writing files and commits belong to `writer.py`.

Rules (argocd-plugin.md, with the decisions the spec left open):
- One Service per Application, named after the app — or, when `labelKey` is set and the app
  carries that label, after the label's value, so apps sharing the value (one service
  deployed by several apps, per environment or per instance) become one Service.
- `argocd.io/*` annotations describe the first app of the group (instances in configuration
  order, then app name); `argocd.io/apps` lists every `instance:app` of the group, which is
  exactly what `GET /api/v1/plugins/argocd/entity-apps?appNames=` takes.
- `spec.repoUrl` comes from the first Git source (a Helm chart repository is not a Git
  source); `spec.deployedIn` lists destination namespaces only when an Environment of that
  name exists, because a reference must resolve.
- Correlation: an existing Service of the same name (any namespace, any file) is updated in
  place: `argocd.io/*` annotations are refreshed, other fields are only filled when absent.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ANNOTATION_PREFIX = "argocd.io/"
DEFAULT_TYPE = "backend"
DEFAULT_LIFECYCLE = "production"
_HEALTH_ORDER = ("Healthy", "Suspended", "Progressing", "Unknown", "Missing", "Degraded")
_NAME_OK = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_REPO_URL_OK = re.compile(r"^([hH][tT][tT][pP][sS]?://|ssh://|git@)\S+$")


@dataclass(frozen=True)
class DiscoveredApp:
    """An Application as found on one instance."""

    instance: str
    app: dict[str, Any]

    @property
    def name(self) -> str:
        return str((self.app.get("metadata") or {}).get("name") or "")


@dataclass
class ExistingEntity:
    """A catalog entity discovery may merge into: where it lives and what it holds."""

    path: str
    doc_index: int
    data: dict[str, Any]


@dataclass
class Change:
    """One Service to create (existing is None) or to update in place."""

    name: str
    data: dict[str, Any]
    existing: ExistingEntity | None = None
    apps: list[str] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.existing is None


def service_name(raw: str) -> str:
    """A valid entity name from an app name or label value ("" when none can be made)."""
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:63].strip("-")
    return name if _NAME_OK.match(name) else ""


def git_repo_url(app: dict[str, Any]) -> str:
    """The repository URL of the app's first Git source (skipping Helm chart sources)."""
    spec = app.get("spec") or {}
    sources = [spec.get("source")] if spec.get("source") else []
    sources += list(spec.get("sources") or [])
    for source in sources:
        if isinstance(source, dict) and source.get("repoURL") and not source.get("chart"):
            return str(source["repoURL"])
    return ""


def group_apps(apps: Iterable[DiscoveredApp],
               label_key: str = "") -> dict[str, list[DiscoveredApp]]:
    """Service name → its apps, in a stable order (first seen first)."""
    groups: dict[str, list[DiscoveredApp]] = {}
    for found in apps:
        labels = (found.app.get("metadata") or {}).get("labels") or {}
        raw = str(labels.get(label_key) or "") if label_key else ""
        name = service_name(raw) or service_name(found.name)
        if name:
            groups.setdefault(name, []).append(found)
    return groups


def annotations_for(group: list[DiscoveredApp]) -> dict[str, str]:
    """The `argocd.io/*` annotations of a group of apps (the first app describes it)."""
    first = group[0].app
    metadata = first.get("metadata") or {}
    spec = first.get("spec") or {}
    destination = spec.get("destination") or {}
    syncs = [((a.app.get("status") or {}).get("sync") or {}).get("status") or "Unknown"
             for a in group]
    healths = [((a.app.get("status") or {}).get("health") or {}).get("status") or "Unknown"
               for a in group]
    sync = syncs[0] if len(set(syncs)) == 1 else "OutOfSync"
    health = max(healths, key=lambda h: _HEALTH_ORDER.index(h) if h in _HEALTH_ORDER else 3)
    annotations = {
        "argocd.io/appName": group[0].name,
        "argocd.io/instance": group[0].instance,
        "argocd.io/namespace": str(metadata.get("namespace") or ""),
        "argocd.io/syncStatus": sync,
        "argocd.io/healthStatus": health,
        "argocd.io/repoURL": git_repo_url(first),
        "argocd.io/destNamespace": str(destination.get("namespace") or ""),
        "argocd.io/destServer": str(destination.get("server") or destination.get("name") or ""),
        "argocd.io/project": str(spec.get("project") or ""),
        "argocd.io/lastSyncedAt": _last_synced(first),
        "argocd.io/apps": ",".join(f"{a.instance}:{a.name}" for a in group),
    }
    return {k: v for k, v in annotations.items() if v}


def _last_synced(app: dict[str, Any]) -> str:
    """When the app last finished a sync: its operation's end, else its last deployment."""
    status = app.get("status") or {}
    operation = status.get("operationState") or {}
    if operation.get("finishedAt"):
        return str(operation["finishedAt"])
    history = status.get("history") or []
    return str((history[-1] or {}).get("deployedAt") or "") if history else ""


def service_for(name: str, group: list[DiscoveredApp], environments: set[str]) -> dict[str, Any]:
    """The Service entity discovery proposes for one group of apps."""
    spec: dict[str, Any] = {"type": DEFAULT_TYPE, "lifecycle": DEFAULT_LIFECYCLE}
    repo = next((git_repo_url(a.app) for a in group if git_repo_url(a.app)), "")
    if repo and _REPO_URL_OK.match(repo):
        spec["repoUrl"] = repo
    deployed: list[str] = []
    for found in group:
        namespace = ((found.app.get("spec") or {}).get("destination") or {}).get("namespace")
        if namespace in environments and namespace not in deployed:
            deployed.append(namespace)
    if deployed:
        spec["deployedIn"] = [{"kind": "Environment", "name": n} for n in deployed]
    return {
        "apiVersion": "gantry.io/v1",
        "kind": "Service",
        "metadata": {"name": name, "annotations": annotations_for(group)},
        "spec": spec,
    }


def merge(existing: dict[str, Any], discovered: dict[str, Any]) -> dict[str, Any]:
    """The existing entity with discovery's knowledge added, never overriding a person.

    `argocd.io/*` annotations are replaced by the discovered set (ArgoCD owns them); every
    other field is only filled when the existing entity does not have it.
    """
    merged = copy.deepcopy(existing)
    metadata = merged.setdefault("metadata", {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if not k.startswith(ANNOTATION_PREFIX)}
    annotations.update(discovered["metadata"]["annotations"])
    metadata["annotations"] = annotations
    spec = merged.setdefault("spec", {})
    if not isinstance(spec, dict):
        return merged
    for key, value in discovered.get("spec", {}).items():
        if key not in spec or spec[key] in (None, "", []):
            spec[key] = copy.deepcopy(value)
    return merged


def plan(apps: Iterable[DiscoveredApp], *, label_key: str, environments: set[str],
         services: dict[str, ExistingEntity]) -> list[Change]:
    """Every Service to create or update; unchanged entities are left out.

    `services` maps a Service name to the existing entity of that name (correlation).
    """
    changes: list[Change] = []
    for name, group in group_apps(apps, label_key).items():
        proposed = service_for(name, group, environments)
        refs = [f"{a.instance}:{a.name}" for a in group]
        existing = services.get(name)
        if existing is None:
            changes.append(Change(name=name, data=proposed, apps=refs))
            continue
        merged = merge(existing.data, proposed)
        if merged != existing.data:
            changes.append(Change(name=name, data=merged, existing=existing, apps=refs))
    return changes


def summary(changes: list[Change], *, instances: list[str], app_count: int) -> str:
    """A Markdown summary fit for a commit message body or a pull request description."""
    created = [c for c in changes if c.created]
    updated = [c for c in changes if not c.created]
    lines = [f"ArgoCD discovery: {len(created)} new, {len(updated)} updated Service(s) "
             f"from {app_count} application(s) on {', '.join(instances) or 'no instance'}.",
             ""]
    for title, group in (("New services", created), ("Updated services", updated)):
        if group:
            lines.append(f"### {title}")
            lines += [f"- `{c.name}` ← {', '.join(c.apps)}" for c in group]
            lines.append("")
    if not changes:
        lines.append("Nothing changed: the catalog already matches ArgoCD.")
    return "\n".join(lines).rstrip() + "\n"
