"""The OpenAPI 3.1 description of the whole runner API.

The document is written here by hand, operation by operation, and a test compares its
paths and methods with the app's routes, so a new route without a description (or a
description of a route that is gone) fails the suite. Roles and the 401/403 answers
are added from each view's `require_role`, so the document states the rule the code
enforces.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from .auth.roles import ROLES

API_VERSION = "1.0.0"
UNDOCUMENTED_ENDPOINTS = ("site", "static")

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any] | None = None,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


_STR = {"type": "string"}
_OBJ = {"type": "object"}
_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
          "description": "A page size above the endpoint's maximum is clamped to it."}
_OFFSET = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
NAMESPACE = _query("namespace", "Namespace of the entity (default `default`).", _NAME)
PAGE = [_query("limit", "Page size.", _LIMIT), _query("offset", "Entries to skip.", _OFFSET)]

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "string"}}, "additionalProperties": True},
    "Status": {"type": "object", "properties": {"status": _STR}},
    "Readiness": {"type": "object", "required": ["status", "checks", "warming"], "properties": {
        "status": {"enum": ["ok", "warming", "unavailable"]},
        "checks": {"type": "object", "additionalProperties": _STR},
        "warming": {"type": "object", "additionalProperties": _STR,
                    "description": "What is still being brought up (index, site, "
                                   "validation) and what it is doing"},
        "error": _STR}},
    "User": {"type": "object", "required": ["id", "username", "role"], "properties": {
        "id": _STR, "username": _STR, "role": {"enum": list(ROLES)},
        "email": {"type": ["string", "null"]}, "teams": {"type": "array", "items": _STR},
        "createdAt": _STR, "disabled": {"type": "boolean"}}},
    "LoginRequest": {"type": "object", "required": ["username", "password"], "properties": {
        "username": {"type": "string", "minLength": 1}, "password": _STR}},
    "LoginResponse": {"type": "object", "required": ["token", "user"], "properties": {
        "token": _STR, "expiresAt": _STR, "user": _ref("User")}},
    "UserChange": {"type": "object", "minProperties": 1, "additionalProperties": False,
                   "properties": {"role": {"enum": list(ROLES)}, "disabled": {"type": "boolean"}}},
    "NewUser": {"type": "object", "required": ["username", "password"], "properties": {
        "username": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"},
        "password": {"type": "string", "minLength": 8},
        "role": {"enum": list(ROLES), "default": "viewer"},
        "email": {"type": "string", "format": "email"}}},
    "ApiKey": {"type": "object", "required": ["id", "name", "role"], "properties": {
        "id": _STR, "name": _STR, "role": {"enum": list(ROLES)}, "prefix": _STR,
        "createdAt": _STR, "lastUsedAt": {"type": ["string", "null"]}, "user": _STR,
        "key": {"type": "string", "description": "Only in the creation response."}}},
    "NewApiKey": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "role": {"enum": list(ROLES), "description": "Default and maximum: the caller's."}}},
    "Entity": {"type": "object", "required": ["apiVersion", "kind", "metadata"],
               "properties": {
                   "apiVersion": {"const": "gantry.io/v1"}, "kind": _STR,
                   "metadata": {"type": "object", "required": ["name"],
                                "properties": {"name": _NAME, "namespace": _NAME}},
                   "spec": _OBJ},
               "description": "Any entity; the kind's JSON Schema (GET /api/v1/schemas/"
                              "{kind}) describes `spec`."},
    "SearchHit": {"type": "object", "properties": {
        "kind": _STR, "namespace": _STR, "name": _STR, "title": _STR, "description": _STR,
        "owner": _STR, "tags": {"type": "array", "items": _STR}}},
    "Graph": {"type": "object", "properties": {
        "nodes": {"type": "array", "items": _OBJ}, "edges": {"type": "array", "items": _OBJ}}},
    "LevelCount": {"type": "object", "properties": {
        "level": {"type": ["string", "null"], "description": "null: below the first level"},
        "label": _STR, "count": {"type": "integer"}}},
    "ScorecardSummary": {"type": "object", "required": ["name", "levels", "distribution"],
                         "properties": {
        "name": _STR, "title": _STR, "description": _STR,
        "appliesTo": {"type": "array", "items": _STR},
        "levels": {"type": "array", "items": _STR}, "entities": {"type": "integer"},
        "distribution": {"type": "array", "items": _ref("LevelCount")}}},
    "Scorecard": {"type": "object", "required": ["name", "levels", "distribution", "teams",
                                                 "rules", "entities"], "properties": {
        "name": _STR, "title": _STR, "description": _STR, "entityCount": {"type": "integer"},
        "appliesTo": {"type": "array", "items": _STR},
        "levels": {"type": "array", "items": _STR},
        "distribution": {"type": "array", "items": _ref("LevelCount")},
        "teams": {"type": "array", "items": {"type": "object", "properties": {
            "owner": {"type": ["string", "null"]}, "entities": {"type": "integer"},
            "distribution": {"type": "array", "items": _ref("LevelCount")}}}},
        "rules": {"type": "array", "items": {"type": "object", "properties": {
            "id": _STR, "title": _STR, "level": _STR, "weight": {"type": "number"},
            "check": _STR, "passed": {"type": "integer"}, "failed": {"type": "integer"}}}},
        "entities": {"type": "array", "items": {"type": "object", "properties": {
            "ref": _STR, "kind": _STR, "namespace": _STR, "name": _STR, "owner": _STR,
            "level": {"type": ["string", "null"]}, "score": {"type": "number"}}}}}},
    "EntityScores": {"type": "object", "required": ["ref", "scorecards"], "properties": {
        "ref": _STR, "scorecards": {"type": "array", "items": {"type": "object", "properties": {
            "name": _STR, "title": _STR, "levels": {"type": "array", "items": _STR},
            "level": {"type": ["string", "null"]}, "label": _STR, "score": {"type": "number"},
            "rules": {"type": "array", "items": {"type": "object", "properties": {
                "id": _STR, "title": _STR, "level": _STR, "weight": {"type": "number"},
                "passed": {"type": "boolean"}, "reason": _STR}}}}}}}},
    "Run": {"type": "object", "properties": {
        "id": _STR, "actionName": _STR, "status": _STR, "inputs": _OBJ, "triggeredBy": _STR,
        "startedAt": _STR}},
    "ExecuteRequest": {"type": "object", "properties": {"inputs": _OBJ}},
    "DecisionRequest": {"type": "object", "properties": {"reason": _STR}},
    "AuditEntry": {"type": "object", "properties": {
        "id": _STR, "timestamp": _STR, "userName": {"type": ["string", "null"]},
        "action": _STR, "resourceType": _STR, "resourceName": {"type": ["string", "null"]},
        "source": _STR, "ipAddress": {"type": ["string", "null"]}, "before": {},
        "after": {}, "commit": {"type": ["string", "null"]}, "details": {}}},
    "HistoryRequest": {"type": "object", "required": ["kind", "name"], "properties": {
        "kind": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]{0,62}$"},
        "name": _NAME, "namespace": _NAME}},
    "HistoryEntry": {"type": "object", "properties": {
        "kind": _STR, "namespace": _STR, "name": _STR, "viewedAt": _STR}},
    "DashboardConfig": {"type": "object", "additionalProperties": False, "properties": {
        "widgets": {"type": "array", "items": {
            "type": "object", "required": ["id"], "additionalProperties": False,
            "properties": {"id": {"type": "string", "minLength": 1},
                           "enabled": {"type": "boolean"}}}},
        "announcements": {"type": "array", "items": {
            "type": "object", "required": ["title", "message"], "additionalProperties": False,
            "properties": {"title": {"type": "string", "minLength": 1},
                           "message": {"type": "string", "minLength": 1},
                           "severity": {"enum": ["info", "warning", "critical"]}}}},
        "quickLinks": {"type": "array", "items": {
            "type": "object", "required": ["title", "url"], "additionalProperties": False,
            "properties": {"title": {"type": "string", "minLength": 1},
                           "url": {"type": "string", "format": "uri"}}}}}},
    "HealthCheckResult": {"type": "object", "properties": {
        "url": _STR, "address": _STR, "status": {"enum": ["up", "down"]},
        "statusCode": {"type": ["integer", "null"]}, "latencyMs": {"type": "number"},
        "redirect": _STR, "error": _STR}},
    "Plugin": {"type": "object", "properties": {"name": _STR, "enabled": {"type": "boolean"}}},
    "PluginConfig": {"type": "object", "description": "The plugin's own settings schema."},
    "ArgoCDOperation": {"type": "object", "properties": {
        "hard": {"type": "boolean"}, "prune": {"type": "boolean"}, "instance": _STR}},
    "PluginEnable": {"type": "object", "required": ["enabled"],
                     "properties": {"enabled": {"type": "boolean"}}},
}


def _list_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


def op(summary: str, tag: str, *, ok: int = 200, response: dict[str, Any] | None = None,
       body: str | None = None, body_required: bool = True, params: list | None = None,
       public: bool = False, content_type: str | None = None,
       extra: dict[int, str] | None = None) -> dict[str, Any]:
    """One operation; `response` is the schema of the success body (None: no body)."""
    operation: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {"required": body_required, "content": {
            "application/json": {"schema": _ref(body)}}}
    responses: dict[str, Any] = {}
    if content_type:
        responses[str(ok)] = {"description": "OK", "content": {content_type: {"schema": _STR}}}
    elif response is None:
        responses[str(ok)] = {"description": "Done, no content" if ok == 204 else "OK"}
    else:
        responses[str(ok)] = _json(response)
    if body or params:
        responses["400"] = _json(_ref("Error"), "Invalid input")
    if body:
        responses["413"] = _json(_ref("Error"), "Body larger than the limit")
        responses["415"] = _json(_ref("Error"), "Content type is not application/json")
    for status, text in (extra or {}).items():
        responses[str(status)] = _json(_ref("Error"), text)
    operation["responses"] = responses
    if public:
        operation["security"] = []
    return operation


_ENTITY_ERRORS = {403: "Role too low, or refused by the write policy (`rule` names the rule)",
                  404: "Unknown kind or entity", 409: "Conflict (exists, or stale If-Match)",
                  422: "The entity fails validation, or a name is longer than the schema "
                       "allows"}
_LONG_NAME = {422: "A name or namespace longer than the schema allows"}
_WRITE_STATE = {409: "Conflict", 503: "The catalog workspace is not available"}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/healthz"): op("Liveness", "health", response=_ref("Status"), public=True),
    ("get", "/readyz"): op("Readiness: 503 while the index is brought up at start and when "
                           "the store or index cannot be read", "health",
                           response=_ref("Readiness"), public=True,
                           extra={503: "Warming up, or store or index unavailable"}),
    ("get", "/metrics"): op("Prometheus metrics", "health", public=True,
                           content_type="text/plain"),
    ("post", "/api/v1/auth/login"): op(
        "Log in; answers a token and sets the gantry_session cookie", "auth",
        response=_ref("LoginResponse"), body="LoginRequest", public=True,
        extra={401: "Wrong user name or password", 429: "Too many failed logins"}),
    ("post", "/api/v1/auth/logout"): op("Revoke the current session", "auth",
                                        response=_ref("Status"),
                                        extra={401: "Not authenticated"}),
    ("get", "/api/v1/auth/me"): op("The caller", "auth", response=_ref("User")),
    ("get", "/api/v1/auth/users"): op("List users", "auth", response=_list_of("User")),
    ("post", "/api/v1/auth/users"): op("Create a user", "auth", ok=201, response=_ref("User"),
                                       body="NewUser", extra={409: "User name taken"}),
    ("patch", "/api/v1/auth/users/{username}"): op(
        "Change a user's role or disable/enable them (ends their sessions, keys above the "
        "new role and WebSockets)", "auth", response=_ref("User"), body="UserChange",
        extra={404: "No such user", 409: "The last enabled admin"}),
    ("delete", "/api/v1/auth/users/{username}"): op(
        "Remove a user with their sessions and keys", "auth", ok=204,
        extra={404: "No such user", 409: "The last enabled admin"}),
    ("get", "/api/v1/auth/apikeys"): op(
        "The caller's API keys (admins: `all=true` for every key)", "auth",
        response=_list_of("ApiKey"), params=[_query("all", "Every user's keys (admin).",
                                                    {"type": "boolean"})]),
    ("post", "/api/v1/auth/apikeys"): op("Create an API key (shown once)", "auth", ok=201,
                                         response=_ref("ApiKey"), body="NewApiKey"),
    ("delete", "/api/v1/auth/apikeys/{key_id}"): op("Revoke an API key", "auth", ok=204,
                                                    extra={404: "No such key"}),
    ("get", "/api/v1/entities"): op(
        "List entities", "entities", response=_list_of("Entity"),
        params=[_query("namespace", "Only this namespace."), _query("owner", "Only this owner."),
                _query("tag", "Only entities with this tag."), *PAGE]),
    ("post", "/api/v1/entities"): op("Create an entity (one commit)", "entities", ok=201,
                                     response=_ref("Entity"), body="Entity",
                                     extra={**_ENTITY_ERRORS, 503: "Catalog not available"}),
    ("get", "/api/v1/entities/{kind}"): op(
        "List entities of a kind (case-insensitive)", "entities", response=_list_of("Entity"),
        params=[_query("namespace", "Only this namespace."), _query("owner", "Only this owner."),
                _query("tag", "Only entities with this tag."), *PAGE],
        extra={404: "Unknown kind"}),
    ("get", "/api/v1/entities/{kind}/{name}"): op(
        "Get an entity (with an ETag)", "entities", response=_ref("Entity"),
        params=[NAMESPACE], extra={404: "Not found", **_LONG_NAME}),
    ("put", "/api/v1/entities/{kind}/{name}"): op(
        "Replace an entity (one commit; If-Match for optimistic locking)", "entities",
        response=_ref("Entity"), body="Entity", params=[NAMESPACE], extra=_ENTITY_ERRORS),
    ("delete", "/api/v1/entities/{kind}/{name}"): op(
        "Delete an entity (one commit)", "entities", ok=204, params=[NAMESPACE],
        extra=_ENTITY_ERRORS),
    ("get", "/api/v1/search"): op(
        "Ranked search over name, title, description, tags and owner", "search",
        response=_list_of("SearchHit"),
        params=[_query("q", "The query.", required=True), _query("kind", "Only this kind."),
                _query("limit", "Most results.", _LIMIT)]),
    ("get", "/api/v1/graph/{kind}/{name}"): op(
        "Relationship graph around an entity", "graph", response=_ref("Graph"),
        params=[NAMESPACE, _query("depth", "Hops to follow (1 to 5).",
                                  {"type": "integer", "minimum": 1, "maximum": 5}),
                _query("direction", "Edges to follow.", {"enum": ["both", "out", "in"]})],
        extra={404: "Not found", **_LONG_NAME}),
    ("get", "/api/v1/scorecards"): op(
        "Every scorecard and how many entities sit at each level", "scorecards",
        response=_list_of("ScorecardSummary")),
    ("get", "/api/v1/scorecards/{name}"): op(
        "One scorecard: distribution, per owning team, rules from the most failed, entities",
        "scorecards", response=_ref("Scorecard"), extra={404: "No such scorecard"}),
    ("get", "/api/v1/entities/{kind}/{name}/scores"): op(
        "An entity's level, score and rule outcomes on each scorecard that applies to it",
        "scorecards", response=_ref("EntityScores"), params=[NAMESPACE],
        extra={404: "Not found", **_LONG_NAME}),
    ("get", "/api/v1/schemas"): op("Self-contained JSON Schemas of every kind, by kind",
                                   "schemas", response=_OBJ),
    ("get", "/api/v1/schemas/{kind}"): op(
        "Self-contained JSON Schema of a kind (Draft 2020-12, every $ref inside it)",
        "schemas", response=_OBJ, extra={404: "Unknown kind"}),
    ("get", "/api/v1/actions"): op("List actions", "actions", response=_list_of("Entity")),
    ("get", "/api/v1/actions/runs"): op(
        "Runs of every action", "actions", response=_list_of("Run"),
        params=[*PAGE, _query("status", "Only runs in this status.")]),
    ("get", "/api/v1/actions/{name}"): op("Get an action", "actions", response=_ref("Entity"),
                                          params=[NAMESPACE], extra={404: "Not found"}),
    ("post", "/api/v1/actions/{name}/execute"): op(
        "Run an action", "actions", ok=201, response=_ref("Run"), body="ExecuteRequest",
        body_required=False, params=[NAMESPACE],
        extra={404: "Not found", 422: "Invalid inputs", 503: "Engine not running"}),
    ("get", "/api/v1/actions/{name}/runs"): op(
        "Runs of an action", "actions", response=_list_of("Run"),
        params=[NAMESPACE, *PAGE, _query("status", "Only runs in this status.")],
        extra={404: "Not found"}),
    ("get", "/api/v1/actions/{name}/runs/{run_id}"): op(
        "Get a run", "actions", response=_ref("Run"), extra={404: "Not found"}),
    ("post", "/api/v1/actions/{name}/runs/{run_id}/approve"): op(
        "Approve a pending run", "actions", response=_ref("Run"), body="DecisionRequest",
        body_required=False, extra={404: "Not found", 409: "Not pending"}),
    ("post", "/api/v1/actions/{name}/runs/{run_id}/reject"): op(
        "Reject a pending run", "actions", response=_ref("Run"), body="DecisionRequest",
        body_required=False, extra={404: "Not found", 409: "Not pending"}),
    ("get", "/api/v1/audit"): op(
        "Audit log, newest first", "audit", response=_list_of("AuditEntry"),
        params=[*PAGE, _query("user", "Only this user's entries."),
                _query("action", "Only this action (login, create, update, execute...)."),
                _query("resourceType", "Only this resource type (User, Service, Action...)."),
                _query("resource", "Only this resource name."),
                _query("since", "From this ISO 8601 date-time on.",
                       {"type": "string", "format": "date-time"}),
                _query("until", "Before this ISO 8601 date-time.",
                       {"type": "string", "format": "date-time"})]),
    ("get", "/api/v1/history"): op("The caller's recently viewed entities", "history",
                                   response=_list_of("HistoryEntry"),
                                   params=[_query("limit", "How many, newest first; 20 are "
                                                  "kept, a larger limit answers those 20.",
                                                  _LIMIT)]),
    ("post", "/api/v1/history"): op("Record an entity view", "history", ok=201,
                                    response=_list_of("HistoryEntry"), body="HistoryRequest"),
    ("get", "/api/v1/dashboard/config"): op(
        "Dashboard settings from gantry.yaml", "dashboard", response=_ref("DashboardConfig"),
        extra={409: "gantry.yaml cannot be read; fix it in the repository"}),
    ("put", "/api/v1/dashboard/config"): op(
        "Change dashboard settings (one commit to gantry.yaml)", "dashboard",
        response=_ref("DashboardConfig"), body="DashboardConfig", extra=_WRITE_STATE),
    ("get", "/api/v1/health-check"): op(
        "Check a public health URL (no private, loopback or link-local targets)", "health",
        response=_ref("HealthCheckResult"),
        params=[_query("url", "Absolute http(s) URL.", {"type": "string", "format": "uri"},
                       required=True)]),
    ("get", "/api/v1/plugins"): op("Bundled plugins and whether they are enabled", "plugins",
                                   response=_list_of("Plugin")),
    ("get", "/api/v1/plugins/{name}"): op("A plugin's detail", "plugins", response=_OBJ,
                                          extra={404: "Unknown plugin"}),
    ("get", "/api/v1/plugins/{name}/config"): op(
        "A plugin's settings (secrets as __GANTRY_SECRET_REDACTED__)", "plugins",
        response=_OBJ, extra={404: "Unknown plugin"}),
    ("put", "/api/v1/plugins/{name}/config"): op(
        "Change a plugin's settings (the redaction placeholder keeps a stored secret)",
        "plugins", response=_OBJ, body="PluginConfig",
        extra={404: "Unknown plugin", 422: "Settings fail the plugin's schema"}),
    ("put", "/api/v1/plugins/{name}/enable"): op("Enable or disable a plugin", "plugins",
                                                 response=_OBJ, body="PluginEnable",
                                                 extra={404: "Unknown plugin"}),
    ("post", "/api/v1/plugins/{name}/sync"): op(
        "Run a plugin's sync: argocd re-discovers and commits; the others have nothing to "
        "sync here (GitOps' push is POST /api/v1/plugins/gitops/sync)", "plugins",
        response=_OBJ, extra={404: "Unknown plugin", 409: "Plugin not ready",
                              502: "The external service failed"}),
    ("get", "/api/v1/plugins/argocd/apps/{app_name}"): op(
        "An ArgoCD application's sync and health status", "argocd", response=_OBJ,
        params=[_query("instance", "ArgoCD instance name (default: the first).")],
        extra={404: "Unknown application", 502: "ArgoCD failed"}),
    ("post", "/api/v1/plugins/argocd/apps/{app_name}/sync"): op(
        "Sync an ArgoCD application", "argocd", response=_OBJ, body="ArgoCDOperation",
        body_required=False, params=[_query("instance", "ArgoCD instance name.")],
        extra={404: "Unknown application", 502: "ArgoCD failed"}),
    ("post", "/api/v1/plugins/argocd/apps/{app_name}/refresh"): op(
        "Refresh an ArgoCD application from Git", "argocd", response=_OBJ,
        body="ArgoCDOperation", body_required=False,
        params=[_query("instance", "ArgoCD instance name.")],
        extra={404: "Unknown application", 502: "ArgoCD failed"}),
    ("get", "/api/v1/plugins/argocd/entity-apps"): op(
        "Status of the ArgoCD applications of one entity", "argocd", response=_OBJ,
        params=[_query("appNames", "Comma-separated `instance:app` names.", required=True)]),
    ("get", "/api/v1/plugins/gitops/status"): op("GitOps connection and sync state", "gitops",
                                                 response=_OBJ),
    ("get", "/api/v1/plugins/gitops/history"): op("Recent pushes and pulls (up to 100)",
                                                  "gitops", response={"type": "array"}),
    ("get", "/api/v1/plugins/gitops/files"): op("Entity files tracked in the repository",
                                                "gitops", response={"type": "array"}),
    ("post", "/api/v1/plugins/gitops/sync"): op("Commit and push (asynchronous)", "gitops",
                                                ok=202, response=_OBJ,
                                                extra={409: "GitOps not enabled"}),
    ("post", "/api/v1/plugins/gitops/pull"): op("Fetch and reconcile (asynchronous)", "gitops",
                                                ok=202, response=_OBJ,
                                                extra={409: "GitOps not enabled"}),
    ("get", "/api/v1/openapi.json"): op("This document", "meta", response=_OBJ, public=True),
    ("get", "/api/v1/ws"): {
        "summary": "WebSocket of entity and action-run events", "tags": ["events"],
        "description": "Upgrade to a WebSocket. Messages are `{type, payload}`; send "
                       "`{\"action\": \"subscribe\", \"channel\": \"entities\"|\"actions\"}` "
                       "to narrow the stream.",
        "responses": {"101": {"description": "Switching protocols"},
                      "400": _json(_ref("Error"), "Not a WebSocket handshake")},
    },
}


def openapi_path(rule: str) -> str:
    """Flask's `/x/<kind>/<int:id>` as OpenAPI's `/x/{kind}/{id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def routes(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every API route of the app (not the static site)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((method.lower(), openapi_path(rule.rule)))
    return found


def _roles(app: Flask) -> dict[tuple[str, str], str | None]:
    roles = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        for method in rule.methods or ():
            roles[(method.lower(), openapi_path(rule.rule))] = getattr(view, "gantry_role", None)
    return roles


def build(app: Flask, server_url: str | None = None) -> dict[str, Any]:
    """The document, for the operations this app actually serves."""
    served = routes(app)
    roles = _roles(app)
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), template in sorted(OPERATIONS.items()):
        if (method, path) not in served:
            continue
        operation = {**template, "responses": dict(template["responses"]),
                     "operationId": _operation_id(method, path)}
        params = list(template.get("parameters", []))
        for name in re.findall(r"{([^}]+)}", path):
            params.insert(0, {"name": name, "in": "path", "required": True, "schema": _STR})
            operation["responses"].setdefault("404", _json(_ref("Error"), "Not found"))
        if params:
            operation["parameters"] = params
        role = roles.get((method, path))
        if role:
            operation["x-gantry-role"] = role
            operation["description"] = (f"Requires the `{role}` role. "
                                        + operation.get("description", "")).strip()
            operation["responses"].setdefault("401", _json(_ref("Error"), "Not authenticated"))
            if role != "viewer":
                operation["responses"].setdefault("403", _json(_ref("Error"), "Role too low"))
        paths.setdefault(path, {})[method] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Gantry runner API", "version": API_VERSION,
                 "description": "The REST API of `gantry serve`. Every error is a JSON "
                                "object `{\"error\": \"...\"}`."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A session token from /api/v1/auth/login or an "
                                          "API key (`gantry_...`)."},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "gantry_session",
                           "description": "Same-origin browser session; unsafe methods need "
                                          "a same-origin Origin/Referer or X-Requested-With."},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def _operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.replace("/api/v1", "")) if w]
    return method + "".join(w[:1].upper() + w[1:] for w in words)
