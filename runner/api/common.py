"""What every API blueprint shares: the app's services and the lookups built on them.

`GantryState` holds the services `runner.app.create_app` builds (each typed, none optional),
at `app.extensions["gantry"]`; blueprints reach them through `current_state()` and the small
helpers below, and import nothing from each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from ..actions.engine import Engine
from ..auth.ratelimit import LoginLimiter
from ..catalog.records import EntityRecord
from ..catalog.workspace import Workspace
from ..config import Settings
from ..events import EventBus
from ..metrics import Metrics
from ..plugins.argocd.client import ArgoCDError
from ..plugins.host import PluginHost
from ..redact import redact
from ..store.db import Store
from ..store.secrets import SecretBox
from .errors import ApiError


@dataclass(frozen=True)
class GantryState:
    """Every service of one app, built once by `create_app` with its collaborators."""

    settings: Settings
    store: Store
    secrets: SecretBox
    bus: EventBus
    workspace: Workspace
    plugins: PluginHost
    engine: Engine
    login_limiter: LoginLimiter
    metrics: Metrics


def current_state() -> GantryState:
    """The state of the app serving this request."""
    return current_app.extensions["gantry"]


def workspace() -> Workspace:
    """The serving workspace."""
    return current_state().workspace


def host() -> PluginHost:
    """The app's plugin host."""
    return current_state().plugins


def canonical_kind(kind: str) -> str:
    """The kind as its schema spells it; 404 for a kind no schema declares."""
    registry = workspace().registry
    canonical = registry.canonical(kind)
    if canonical is None:
        raise ApiError(404, f"unknown kind {kind!r}; known kinds: {', '.join(registry.kinds())}")
    return canonical


def requested_entity(kind: str, name: str) -> EntityRecord:
    """The entity a `/<kind>/<name>` route names (`?namespace=`, default `default`); 404
    for an unknown kind or entity."""
    kind = canonical_kind(kind)
    namespace = request.args.get("namespace") or "default"
    record = workspace().record(kind, name, namespace)
    if record is None:
        raise ApiError(404, f"entity not found: {kind} '{namespace}/{name}'")
    return record


@contextmanager
def argocd_answers(secrets: Callable[[], list[str]]) -> Iterator[None]:
    """Answer an `ArgoCDError` escaping the block with ArgoCD's own status and code.

    The one conversion left by hand: an `ArgoCDError` carries the status *ArgoCD* answered
    (executors act on it), not ours — ArgoCD refusing *our* credentials is a gateway problem
    (502), not the caller's 401 — and its message is redacted with the plugin's secrets
    (`secrets()`, read when the error happens).
    """
    try:
        yield
    except ArgoCDError as exc:
        extra: dict[str, Any] = {"argocdStatus": exc.status}
        if exc.code is not None:
            extra["argocdCode"] = exc.code
        raise ApiError(502 if exc.status == 401 else exc.status, redact(exc.message, secrets()),
                       **extra) from None
