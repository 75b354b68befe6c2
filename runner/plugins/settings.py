"""Plugin settings as the API and the executors see them: validated, secrets encrypted.

Secret fields (marked `x-secret` in `schemas/plugins/<name>.json`) are stored encrypted with the
runner's `SecretBox`, returned as `__GANTRY_SECRET_REDACTED__`, and a config sent back with
that placeholder keeps the stored secret (matched by instance `name` inside arrays, so a
reordered list keeps each instance's own token).

A stored secret is bound to the URL it is sent to (the `x-secret-url` fields of the same
object: `apiUrl`, `argocdUrl`, `repoUrl`, `receiverUrl`). A config that changes that URL
must send the secret again: the placeholder is then refused with 400, so nobody who may
edit settings can point a stored token at a server of their choosing.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from runner.errors import StatusError
from runner.redact import REDACTED
from runner.store import settings as rows
from runner.store.db import Store
from runner.store.secrets import SecretBox, SecretError

from .registry import Plugin, location, map_secrets, secret_locations, secret_urls
from .registry import get as get_plugin

_ENCRYPTED = "enc:v1:"
_boxes: weakref.WeakKeyDictionary[Store, SecretBox] = weakref.WeakKeyDictionary()
_boxes_lock = threading.Lock()


class SettingsError(StatusError):
    """A config or enable request is refused; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message, status=status, **extra)


def attach_secret_box(store: Store, box: SecretBox) -> None:
    """Let `plugin_config(store, name)` decrypt this store's secrets (done at app start)."""
    with _boxes_lock:
        _boxes[store] = box


def _plugin(name: str) -> Plugin:
    plugin = get_plugin(name)
    if plugin is None:
        raise SettingsError(404, f"no plugin named {name!r}")
    return plugin


class PluginSettings:
    """Read and change the settings of the bundled plugins."""

    def __init__(self, store: Store, box: SecretBox):
        self.store = store
        self.box = box

    def _stored(self, name: str) -> dict[str, Any]:
        return (rows.get(self.store, name) or {}).get("config") or {}

    def _decrypt(self, plugin: Plugin, config: dict[str, Any]) -> dict[str, Any]:
        def decrypt(_path: tuple, value: Any) -> Any:
            if isinstance(value, str) and value.startswith(_ENCRYPTED):
                return self.box.decrypt(value[len(_ENCRYPTED):])
            return value
        return map_secrets(plugin.schema, config, decrypt)

    def config(self, name: str) -> dict[str, Any]:
        """The plugin's config with defaults applied and secrets decrypted (never returned)."""
        plugin = _plugin(name)
        try:
            return plugin.with_defaults(self._decrypt(plugin, self._stored(name)))
        except SecretError as exc:
            raise SettingsError(409, f"the stored secrets of the {name} plugin cannot be "
                                "decrypted (GANTRY_SECRET_KEY changed?); set them again") from exc

    def redacted_config(self, name: str) -> dict[str, Any]:
        """The config as the API shows it: every non-empty secret is the placeholder."""
        plugin = _plugin(name)
        stored = plugin.with_defaults(self._stored(name))
        return map_secrets(plugin.schema, stored, lambda _p, v: REDACTED if v else v)

    def secret_values(self, name: str) -> list[str]:
        """The plugin's plain secrets, for redacting them from logs and errors."""
        plugin = _plugin(name)
        return [v for _p, v in secret_locations(plugin.schema, self.config(name))
                if isinstance(v, str) and v]

    def enabled(self, name: str) -> bool:
        _plugin(name)
        return bool((rows.get(self.store, name) or {}).get("enabled"))

    def summary(self, name: str) -> dict[str, Any]:
        plugin = _plugin(name)
        row = rows.get(self.store, name) or {}
        try:
            missing = plugin.missing(self.config(name))
        except SettingsError as exc:
            missing = [exc.message]
        return {**plugin.describe(), "enabled": bool(row.get("enabled")),
                "configured": bool(row.get("config")),
                "missingSettings": missing,
                "updatedAt": row.get("updatedAt"), "updatedBy": row.get("updatedBy")}

    def save(self, name: str, new: Any, user: str | None) -> dict[str, Any]:
        """Validate and store a whole config; placeholders keep the stored secrets.

        Returns the config as it was before (redacted), for the audit log.
        """
        plugin = _plugin(name)
        if not isinstance(new, dict):
            raise SettingsError(400, "the plugin config must be a JSON object")
        before = self.redacted_config(name)
        try:
            current = self._decrypt(plugin, self._stored(name))
        except SecretError:  # undecryptable secrets count as absent: they can be set anew
            current = {}
        merged = self._restore_placeholders(plugin, new, current)
        problems = plugin.problems(merged)
        if problems:
            raise SettingsError(400, f"invalid {name} config: {problems[0]}", problems=problems)
        if self.enabled(name):
            missing = plugin.missing(merged)
            if missing:
                raise SettingsError(409, f"the {name} plugin is enabled and would lack "
                                    f"required settings: {', '.join(missing)}; disable it first",
                                    missing=missing)
        encrypted = map_secrets(plugin.schema, merged,
                                lambda _p, v: _ENCRYPTED + self.box.encrypt(v)
                                if isinstance(v, str) and v else v)
        rows.put_config(self.store, name, encrypted, user)
        return before

    def set_enabled(self, name: str, enabled: bool, user: str | None,
                    extra_missing: list[str] | None = None) -> None:
        """Enable or disable; enabling is refused (409) while required settings are missing."""
        plugin = _plugin(name)
        if enabled:
            missing = plugin.missing(self.config(name)) + list(extra_missing or [])
            if missing:
                raise SettingsError(409, f"cannot enable {name}: required settings are missing: "
                                    f"{', '.join(missing)}", missing=missing)
        rows.put_enabled(self.store, name, enabled, user)

    @staticmethod
    def _restore_placeholders(plugin: Plugin, new: dict[str, Any],
                              current: dict[str, Any]) -> dict[str, Any]:
        """`new` with each placeholder replaced by the stored secret it stands for.

        Refused (400, naming the secret) where nothing is stored, and where the URL that
        secret is sent to differs from the stored one (defaults applied to both sides).
        """
        new_urls, stored_urls = plugin.with_defaults(new), plugin.with_defaults(current)

        def restore(path: tuple, value: Any) -> Any:
            if value != REDACTED:
                return value
            previous = _counterpart(new, current, path)
            if not previous:
                raise SettingsError(400, f"{location(path)}: the placeholder {REDACTED} stands "
                                    "for a stored secret, but none is stored there")
            for key in secret_urls(plugin.schema, path):
                url_path = (*path[:-1], key)
                if _value_at(new_urls, url_path) != _counterpart(new_urls, stored_urls,
                                                                 url_path):
                    field = location(path)
                    message = (f"{field}: {location(url_path)} changed, so the stored secret "
                               f"is not kept for the new address; send {field} again")
                    raise SettingsError(400, message, problems=[message])
            return previous
        return map_secrets(plugin.schema, new, restore)


def _counterpart(new: Any, current: Any, path: tuple) -> Any:
    """The stored value at `path`, following array items by their `name` when they have one."""
    node_new, node_old = new, current
    for part in path:
        if isinstance(part, int):
            if not isinstance(node_old, list) or not isinstance(node_new, list):
                return None
            item = node_new[part] if part < len(node_new) else None
            name = item.get("name") if isinstance(item, dict) else None
            match = None
            if name is not None:
                match = next((o for o in node_old if isinstance(o, dict)
                              and o.get("name") == name), None)
            elif part < len(node_old):
                match = node_old[part]
            node_new, node_old = item, match
        else:
            if not isinstance(node_old, dict) or not isinstance(node_new, dict):
                return None
            node_new, node_old = node_new.get(part), node_old.get(part)
    return node_old


def _value_at(node: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def plugin_config(store: Store, name: str, box: SecretBox | None = None) -> dict[str, Any]:
    """The decrypted config of a plugin with defaults (`{}` for an unknown plugin).

    Executors use it through `RunContext.plugin_config`; the secret box is the one attached
    to the store at app start unless given.
    """
    if get_plugin(name) is None:
        return {}
    with _boxes_lock:
        box = box or _boxes.get(store)
    if box is None:
        raise RuntimeError("no secret box attached to the store; call attach_secret_box()")
    return PluginSettings(store, box).config(name)
