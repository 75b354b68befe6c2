"""Plugin settings: list, detail, config (secrets redacted), enable, sync (`/api/v1/plugins`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from ..app import current_state
from ..auth import client_ip, current_user, require_role
from ..catalog.git import Identity
from ..plugins.argocd.client import ArgoCDError
from ..plugins.argocd.service import ServiceError
from ..plugins.gitops.service import GitOpsUnavailable
from ..plugins.host import PluginHost, host_of
from ..plugins.registry import PLUGINS
from ..plugins.settings import SettingsError
from ..redact import redact
from ..store import audit
from .errors import ApiError, json_body

bp = Blueprint("plugins", __name__, url_prefix="/api/v1/plugins")


def host() -> PluginHost:
    return host_of(current_state())


def api_error(exc: Exception, secrets: list[str] | None = None) -> ApiError:
    """The JSON error for a plugin failure; ArgoCD's own status and code are passed on."""
    if isinstance(exc, ArgoCDError):
        message = redact(exc.message, secrets or [])
        extra: dict[str, Any] = {"argocdStatus": exc.status}
        if exc.code is not None:
            extra["argocdCode"] = exc.code
        # ArgoCD refusing *our* credentials is a gateway problem, not the caller's 401
        return ApiError(502 if exc.status == 401 else exc.status, message, **extra)
    if isinstance(exc, SettingsError | ServiceError):
        return ApiError(exc.status, exc.message, **exc.extra)
    if isinstance(exc, GitOpsUnavailable):
        return ApiError(exc.status, exc.message)
    raise exc


def _plugin_or_404(name: str) -> None:
    if name not in PLUGINS:
        raise ApiError(404, f"no plugin named {name!r}; bundled plugins: "
                       f"{', '.join(sorted(PLUGINS))}")


def author_of(user: Any) -> Identity:
    return Identity.for_user(user)


@bp.get("")
@require_role("viewer")
def list_plugins() -> Response:
    """Every bundled plugin with its enabled state."""
    settings = host().settings
    return jsonify([settings.summary(name) for name in PLUGINS])


@bp.get("/<name>")
@require_role("platform-engineer")
def plugin_detail(name: str) -> Response:
    _plugin_or_404(name)
    settings = host().settings
    plugin = PLUGINS[name]
    return jsonify({**settings.summary(name), "configSchema": plugin.schema,
                    "defaults": plugin.defaults, "config": settings.redacted_config(name)})


@bp.get("/<name>/config")
@require_role("platform-engineer")
def get_config(name: str) -> Response:
    _plugin_or_404(name)
    return jsonify(host().settings.redacted_config(name))


@bp.put("/<name>/config")
@require_role("platform-engineer")
def put_config(name: str) -> Response:
    """Replace the config; `__GANTRY_SECRET_REDACTED__` keeps a stored secret."""
    _plugin_or_404(name)
    body = json_body()
    user = current_user()
    settings = host().settings
    try:
        before = settings.save(name, body, user.username)
    except SettingsError as exc:
        raise api_error(exc) from None
    after = settings.redacted_config(name)
    audit.record(current_state().store, user=user, action="plugin.config.update",
                 resource_type="Plugin", resource_name=name, ip=client_ip(),
                 before=before, after=after)
    return jsonify(after)


@bp.put("/<name>/enable")
@require_role("platform-engineer")
def put_enable(name: str) -> Response:
    """`{"enabled": true|false}`; enabling is refused (409) while settings are missing."""
    _plugin_or_404(name)
    body = json_body()
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(400, 'body must be {"enabled": true} or {"enabled": false}')
    user = current_user()
    plugins = host()
    before = plugins.settings.enabled(name)
    try:
        extra = plugins.gitops.missing_remote() if name == "gitops" and enabled else []
        plugins.settings.set_enabled(name, enabled, user.username, extra_missing=extra)
    except SettingsError as exc:
        raise api_error(exc) from None
    audit.record(current_state().store, user=user,
                 action="plugin.enable" if enabled else "plugin.disable",
                 resource_type="Plugin", resource_name=name, ip=client_ip(),
                 before={"enabled": before}, after={"enabled": enabled})
    return jsonify(plugins.settings.summary(name))


@bp.post("/<name>/sync")
@require_role("platform-engineer")
def sync(name: str) -> tuple[Response, int]:
    """argocd: re-discover and commit; gitops: push (admin only, 202); others: nothing."""
    _plugin_or_404(name)
    if name == "gitops":
        from .gitops import queue_operation
        return queue_operation("push")
    if name != "argocd":
        raise ApiError(400, f"the {name} plugin has nothing to sync")
    user = current_user()
    plugins = host()
    try:
        result = plugins.argocd.discover(author_of(user))
    except (ServiceError, ArgoCDError) as exc:
        raise api_error(exc, plugins.argocd.secrets()) from None
    audit.record(current_state().store, user=user, action="plugin.sync", resource_type="Plugin",
                 resource_name=name, ip=client_ip(), commit=result["commit"],
                 details={k: result[k] for k in ("created", "updated", "files")})
    return jsonify(result), 200


@bp.record_once
def _create_host(setup: Any) -> None:
    """Build the host as soon as the blueprint is registered: executors resuming runs at
    start may ask for plugin settings before `init_app` runs."""
    host_of(setup.app.extensions["gantry"])


def init_app(app: Flask, state: Any) -> None:
    """Build the plugin host and start its background loop (syncInterval, autoPush)."""
    host_of(state).start()
