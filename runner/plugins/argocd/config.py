"""The argocd plugin's configuration as typed values, with `${VAR}` secrets resolved."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class Instance:
    """One ArgoCD server Gantry talks to."""

    name: str
    url: str
    token: str = ""
    username: str = ""
    password: str = ""
    insecure_skip_tls: bool = False
    project: str = ""

    @classmethod
    def from_config(cls, item: Mapping[str, Any], where: str) -> Instance:
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: must be an object")
        name = item.get("name")
        url = item.get("argocdUrl")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name: required")
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise ConfigError(f"{where}.argocdUrl: required, an http(s) URL")
        token = item.get("token") or ""
        username = item.get("username") or ""
        password = item.get("password") or ""
        if not token and not (username and password):
            raise ConfigError(f"{where}: needs a token, or a username and password")
        return cls(name=name, url=url.rstrip("/"), token=str(token), username=str(username),
                   password=str(password), insecure_skip_tls=bool(item.get("insecureSkipTLS")),
                   project=str(item.get("project") or ""))


@dataclass(frozen=True)
class ArgoCDConfig:
    instances: tuple[Instance, ...]
    label_key: str = ""
    sync_interval: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ArgoCDConfig:
        items = config.get("instances")
        if not isinstance(items, list) or not items:
            raise ConfigError("instances: at least one ArgoCD instance is required")
        instances = tuple(Instance.from_config(item, f"instances[{i}]")
                          for i, item in enumerate(items))
        names = [i.name for i in instances]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"instances: duplicate instance name {', '.join(duplicates)}")
        return cls(instances=instances, label_key=str(config.get("labelKey") or ""),
                   sync_interval=str(config.get("syncInterval") or ""))

    def instance(self, name: str | None = None) -> Instance:
        """The named instance, or the first one when no name is given."""
        if not name:
            return self.instances[0]
        for instance in self.instances:
            if instance.name == name:
                return instance
        known = ", ".join(i.name for i in self.instances)
        raise ConfigError(f"unknown ArgoCD instance {name!r} (configured: {known})")


def expand_env(value: Any, environ: Mapping[str, str] | None = None, where: str = "") -> Any:
    """Replace `${VAR}` in every string of `value`; an unset variable is an error, not ''."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(f"{where or 'config'}: environment variable {name} is not set")
            return env[name]
        return _VAR.sub(substitute, value)
    if isinstance(value, list):
        return [expand_env(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand_env(v, env, f"{where}.{k}" if where else str(k))
                for k, v in value.items()}
    return value
