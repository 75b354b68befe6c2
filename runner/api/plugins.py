"""Plugin settings: list, detail, config (secrets redacted), enable, sync (`/api/v1/plugins`).

GitOps' own routes (status, history, files, push and pull) live in `runner.api.gitops`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..auth import client_ip, current_user, require_role
from ..catalog.git import Identity
from ..plugins.registry import PLUGINS
from ..store import audit
from .common import argocd_answers, current_state, host
from .errors import ApiError, json_body

bp = Blueprint("plugins", __name__, url_prefix="/api/v1/plugins")


def _plugin_or_404(name: str) -> None:
    if name not in PLUGINS:
        raise ApiError(404, f"no plugin named {name!r}; bundled plugins: "
                       f"{', '.join(sorted(PLUGINS))}")


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
    before = settings.save(name, body, user.username)
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
    extra = plugins.gitops.missing_remote() if name == "gitops" and enabled else []
    plugins.settings.set_enabled(name, enabled, user.username, extra_missing=extra)
    audit.record(current_state().store, user=user,
                 action="plugin.enable" if enabled else "plugin.disable",
                 resource_type="Plugin", resource_name=name, ip=client_ip(),
                 before={"enabled": before}, after={"enabled": enabled})
    return jsonify(plugins.settings.summary(name))


@bp.post("/<name>/sync")
@require_role("platform-engineer")
def sync(name: str) -> tuple[Response, int]:
    """argocd: re-discover and commit; other plugins have nothing to sync here.

    (`POST /api/v1/plugins/gitops/sync`, GitOps' push, is a route of its own blueprint and
    never reaches this view.)
    """
    _plugin_or_404(name)
    if name != "argocd":
        raise ApiError(400, f"the {name} plugin has nothing to sync")
    user = current_user()
    service = host().argocd
    with argocd_answers(service.secrets):
        result = service.discover(Identity.for_user(user))
    audit.record(current_state().store, user=user, action="plugin.sync", resource_type="Plugin",
                 resource_name=name, ip=client_ip(), commit=result["commit"],
                 details={k: result[k] for k in ("created", "updated", "files")})
    return jsonify(result), 200
