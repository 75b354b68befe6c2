"""The bundled plugins: what each one is, its settings schema, defaults, and what enabling needs.

Each plugin's settings are described by `schemas/plugins/<name>.json` (JSON Schema, Draft
2020-12): its `title` and `description`, its `properties`, and its defaults (the root
`default`). Those files are the one description of the settings: the API publishes them
(`configSchema`), and every config is checked against them before it is stored. A property
marked `"x-secret": true` holds a secret: it is encrypted in the store and read back as
`__GANTRY_SECRET_REDACTED__`. A property marked `"x-secret-url": true` is where the secrets
of the same object are sent: when it changes, those secrets must be sent again (see
`PluginSettings.save`). The files sit in a subfolder of `schemas/`, so they are never taken
for entity kinds.

What a schema cannot say stays here: the settings enabling needs (which depend on
`authMode`, or on each instance), and values that reach `git` as arguments.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from generator.resources import schemas_dir
from runner.catalog.git_args import UnsafeGitValue, safe_ref_name, safe_remote_url

PLUGIN_SCHEMAS = "plugins"
"""The folder of `schemas/` that holds one settings schema per plugin."""


@dataclass(frozen=True)
class Plugin:
    """One bundled plugin. `requirements(config)` names the settings enabling still needs."""

    name: str
    title: str
    description: str
    schema: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    requirements: Callable[[dict[str, Any]], list[str]] = field(default=lambda _c: [])
    checks: Callable[[dict[str, Any]], list[str]] = field(default=lambda _c: [])
    """Rules a schema cannot say (a safe Git remote); run once the schema holds."""

    def with_defaults(self, config: dict[str, Any]) -> dict[str, Any]:
        merged = copy.deepcopy(self.defaults)
        merged.update(copy.deepcopy(config))
        return merged

    def problems(self, config: Any) -> list[str]:
        """Schema violations of a config, each as "field: message"."""
        validator = Draft202012Validator(self.schema)
        found = []
        for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
            where = location(error.absolute_path) or "config"
            found.append(f"{where}: {error.message}")
        if not found and isinstance(config, dict):
            found = self.checks(config)
        return found

    def missing(self, config: dict[str, Any]) -> list[str]:
        return self.requirements(self.with_defaults(config))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description}


def location(path: Any) -> str:
    """`instances[0].token` from a JSON path such as ("instances", 0, "token")."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _github_requirements(config: dict[str, Any]) -> list[str]:
    if config.get("authMode", "pat") == "app":
        return [k for k in ("appId", "installationId", "privateKey") if not config.get(k)]
    return [] if config.get("personalAccessToken") else ["personalAccessToken"]


def _argocd_requirements(config: dict[str, Any]) -> list[str]:
    instances = config.get("instances") or []
    if not instances:
        return ["instances"]
    missing = []
    for i, item in enumerate(instances):
        if not item.get("argocdUrl"):
            missing.append(f"instances[{i}].argocdUrl")
        if not item.get("token") and not (item.get("username") and item.get("password")):
            missing.append(f"instances[{i}].token (or username and password)")
    return missing


def _gitops_checks(config: dict[str, Any]) -> list[str]:
    """`repoUrl` and `branch` reach `git` as arguments: refused unless safe (empty: the
    repository's origin and checked-out branch)."""
    found = []
    for key, check in (("repoUrl", safe_remote_url), ("branch", safe_ref_name)):
        if config.get(key):
            try:
                check(config[key], key)
            except UnsafeGitValue as exc:
                found.append(str(exc))
    return found


def _flux_requirements(config: dict[str, Any]) -> list[str]:
    return [] if config.get("receiverUrl") else ["receiverUrl"]


def _load(name: str, requirements: Callable[[dict[str, Any]], list[str]] | None = None,
          checks: Callable[[dict[str, Any]], list[str]] | None = None) -> Plugin:
    """The plugin described by `schemas/plugins/<name>.json`; a missing or broken file is an
    error at start, never a plugin that is silently absent."""
    path = schemas_dir() / PLUGIN_SCHEMAS / f"{name}.json"
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, SchemaError) as exc:
        raise RuntimeError(f"the settings schema of the {name} plugin is unusable: {path}: "
                           f"{getattr(exc, 'message', exc)}") from exc
    defaults = schema.get("default", {})
    return Plugin(name=name, title=schema.get("title", name),
                  description=schema.get("description", ""), schema=schema,
                  defaults=defaults if isinstance(defaults, dict) else {},
                  requirements=requirements or (lambda _c: []),
                  checks=checks or (lambda _c: []))


PLUGINS: dict[str, Plugin] = {plugin.name: plugin for plugin in (
    _load("github", requirements=_github_requirements),
    _load("argocd", requirements=_argocd_requirements),
    _load("gitops", checks=_gitops_checks),
    _load("flux", requirements=_flux_requirements),
)}


def get(name: str) -> Plugin | None:
    return PLUGINS.get(name)


def secret_locations(schema: dict[str, Any], value: Any,
                     path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) of `value` that the schema marks as a secret."""
    if schema.get("x-secret"):
        yield path, value
        return
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                yield from secret_locations(sub, value[key], (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from secret_locations(schema["items"], item, (*path, index))


def secret_urls(schema: dict[str, Any], path: tuple) -> list[str]:
    """Keys marked `x-secret-url` in the object holding the secret at `path`."""
    node = schema
    for part in path[:-1]:
        node = (node.get("items") if isinstance(part, int) else
                (node.get("properties") or {}).get(part)) or {}
    return [key for key, sub in (node.get("properties") or {}).items()
            if isinstance(sub, dict) and sub.get("x-secret-url")]


def map_secrets(schema: dict[str, Any], value: Any, fn: Callable[[tuple, Any], Any]) -> Any:
    """A copy of `value` with every secret replaced by `fn(path, secret)`."""
    result = copy.deepcopy(value)
    for path, secret in list(secret_locations(schema, result)):
        parent = result
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = fn(path, secret)
    return result
