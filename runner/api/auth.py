"""Login, logout, the caller, user management and API keys (`/api/v1/auth/...`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..auth import SESSION_COOKIE, accounts, client_ip, current_user, require_role
from ..auth.request import bearer_token, refuse_query_credentials
from ..store import apikeys as apikey_store
from ..store import audit
from ..store import users as user_store
from .common import current_state
from .errors import ApiError, json_body

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
bp.before_app_request(refuse_query_credentials)
MAX_USERNAME = 64
MAX_PASSWORD = 1024


@bp.post("/login")
def login() -> Response:
    """Exchange a user name and password for a session token (and the session cookie)."""
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username or not isinstance(password, str):
        raise ApiError(400, "username and password are required strings")
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        raise ApiError(400, f"username (at most {MAX_USERNAME} characters) or password "
                            f"(at most {MAX_PASSWORD}) is too long")
    state = current_state()
    ip = client_ip() or "unknown"
    wait = state.login_limiter.retry_after(username, ip)
    if wait:
        audit.record(state.store, user=username, action="login.throttled", resource_type="User",
                     resource_name=username, ip=ip)
        raise ApiError(429, f"too many failed logins; try again in {wait} seconds",
                       headers={"Retry-After": str(wait)})
    record = accounts.authenticate_password(state.store, username, password)
    if record is None:
        state.login_limiter.failed(username, ip)
        audit.record(state.store, user=username, action="login.failed", resource_type="User",
                     resource_name=username, ip=ip)
        raise ApiError(401, "invalid username or password")
    state.login_limiter.succeeded(username, ip)
    session = accounts.start_session(state.store, record)
    audit.record(state.store, user=record.username, action="login", resource_type="User",
                 resource_name=record.username, ip=ip)
    resp = jsonify({"token": session.token, "expiresAt": session.expires_at,
                    "user": _user_json(record)})
    resp.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite=_same_site(),
                    secure=request.is_secure, path="/",
                    max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return resp


def _same_site() -> str:
    """`Lax`, or `None` over HTTPS when GANTRY_CORS_ORIGINS lists sites of other domains:
    a browser sends a Lax cookie to same-site origins only. The cross-site checks on cookie
    writes (trusted Origin, or X-Requested-With) apply either way."""
    return "None" if current_state().settings.cors_origins and request.is_secure else "Lax"


@bp.post("/logout")
def logout() -> Response:
    """Revoke the session the caller used (bearer token or cookie) on the server."""
    user = current_user()
    state = current_state()
    token = bearer_token() or request.cookies.get(SESSION_COOKIE)
    if user.via == "apikey":
        raise ApiError(400, "API keys are not sessions: revoke a key with "
                            "DELETE /api/v1/auth/apikeys/{id}")
    if token:
        accounts.end_session(state.store, token, state.bus)
    audit.record(state.store, user=user, action="logout", resource_type="User",
                 resource_name=user.username, ip=client_ip())
    resp = jsonify({"status": "logged out"})
    resp.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite=_same_site(),
                       secure=request.is_secure)
    return resp


@bp.get("/me")
@require_role("viewer")
def me() -> Response:
    return jsonify(current_user().public())


def _user_json(record: user_store.UserRecord) -> dict:
    body = record.public()
    try:
        teams = sorted(current_state().workspace.teams_of(record.username))
    except Exception:  # membership unknown while the index rebuilds
        teams = []
    body["teams"] = teams
    return body


@bp.get("/users")
@require_role("admin")
def list_users() -> Response:
    return jsonify([_user_json(r) for r in user_store.list_all(current_state().store)])


@bp.post("/users")
@require_role("admin")
def create_user() -> Response:
    body = json_body()
    state = current_state()
    record = accounts.create_user(state.store, body.get("username"), body.get("password"),
                                  body.get("role", "viewer"), body.get("email"))
    audit.record(state.store, user=current_user(), action="create", resource_type="User",
                 resource_name=record.username, ip=client_ip(),
                 after={"username": record.username, "role": record.role,
                        "email": record.email})
    return jsonify(_user_json(record)), 201


@bp.patch("/users/<username>")
@require_role("admin")
def update_user(username: str) -> Response:
    """Change a user's role or disable/enable them; their sessions, keys above the new
    role (every key when disabled) and WebSockets end at once."""
    body = json_body()
    unknown = set(body) - {"role", "disabled"}
    if unknown:
        raise ApiError(400, f"only role and disabled can be changed, not {sorted(unknown)}")
    state = current_state()
    before = user_store.by_name(state.store, username)
    record = accounts.update_user(state.store, username, role=body.get("role"),
                                  disabled=body.get("disabled"), bus=state.bus)
    audit.record(state.store, user=current_user(), action="update", resource_type="User",
                 resource_name=record.username, ip=client_ip(),
                 before=_audited(before), after=_audited(record))
    return jsonify(_user_json(record))


@bp.delete("/users/<username>")
@require_role("admin")
def delete_user(username: str) -> Response:
    """Remove a user with their sessions and keys; the audit log keeps their name."""
    state = current_state()
    record = accounts.delete_user(state.store, username, bus=state.bus)
    audit.record(state.store, user=current_user(), action="delete", resource_type="User",
                 resource_name=record.username, ip=client_ip(), before=_audited(record))
    return Response(status=204)


def _audited(record: user_store.UserRecord | None) -> dict | None:
    if record is None:
        return None
    return {"username": record.username, "role": record.role, "email": record.email,
            "disabled": user_store.is_disabled(record)}


@bp.get("/apikeys")
@require_role("viewer")
def list_apikeys() -> Response:
    """The caller's keys; an admin sees every key (`?all=true`)."""
    user = current_user()
    state = current_state()
    every = request.args.get("all", "").lower() in ("1", "true", "yes")
    if every and user.role != "admin":
        raise ApiError(403, "listing every user's keys needs the admin role")
    records = apikey_store.list_for(state.store, None if every else user.id)
    names = {r.id: r.username for r in user_store.list_all(state.store)} if every else {}
    return jsonify([r.public(names.get(r.user_id) if every else None) for r in records])


@bp.post("/apikeys")
@require_role("viewer")
def create_apikey() -> Response:
    """Create a key for the caller; the key itself is in this response only."""
    user = current_user()
    state = current_state()
    body = json_body()
    owner = user_store.by_id(state.store, user.id)
    if owner is None:
        raise ApiError(401, "the calling user no longer exists")
    new = accounts.create_api_key(state.store, owner, body.get("name"), body.get("role"),
                                  creator_role=user.role)
    audit.record(state.store, user=user, action="create", resource_type="ApiKey",
                 resource_name=new.record.name, ip=client_ip(),
                 after={"id": new.record.id, "name": new.record.name, "role": new.record.role})
    return jsonify({**new.record.public(), "key": new.key}), 201


@bp.delete("/apikeys/<key_id>")
@require_role("viewer")
def delete_apikey(key_id: str) -> Response:
    """Revoke a key: its owner or an admin."""
    user = current_user()
    state = current_state()
    record = apikey_store.by_id(state.store, key_id)
    if record is None or (record.user_id != user.id and user.role != "admin"):
        raise ApiError(404, f"API key {key_id} not found")
    accounts.revoke_api_key(state.store, key_id, state.bus)
    audit.record(state.store, user=user, action="delete", resource_type="ApiKey",
                 resource_name=record.name, ip=client_ip(),
                 before={"id": record.id, "name": record.name, "role": record.role})
    return Response(status=204)
