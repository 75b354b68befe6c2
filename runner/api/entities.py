"""Entities: list, read, create, update and delete (`/api/v1/entities/...`).

Reads come from the runner's index; writes go through `runner.catalog.writer` (a Git
commit authored by the caller) and are audited with the state before and after and the
commit id. `GET` of one entity answers an `ETag`; `PUT`/`DELETE` with a stale `If-Match`
get 409, so an update based on an old read never overwrites a newer one.

Who may write what is decided by the write policy (`runner.auth.write_policy`), which
`runner.catalog.writer` consults under the write lock with the entity as the catalog holds
it: a refusal is a 403 whose `error` quotes the rule and whose `rule` names it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..auth import client_ip, current_user, require_role
from ..catalog import writer
from ..catalog.records import EntityRecord, etag_of
from ..catalog.yaml_edit import strip_derived
from ..redact import redact
from ..store import audit
from .common import canonical_kind, current_state, requested_entity, workspace
from .errors import ApiError, json_body
from .names import checked_names
from .params import offset_arg, page_arg

bp = Blueprint("entities", __name__, url_prefix="/api/v1/entities")

FILTERS = ("namespace", "owner", "tag")
MAX_PAGE = 1_000_000


def _filters() -> dict[str, Any]:
    """The list filters of the query string, and the optional `limit`/`offset` paging."""
    filters: dict[str, Any] = {name: request.args.get(name) or None for name in FILTERS}
    limit, offset = page_arg("limit", MAX_PAGE, MAX_PAGE), offset_arg()
    if request.args.get("limit") or offset:
        filters["limit"], filters["offset"] = limit, offset
    return filters


def _entity_response(record: EntityRecord | None, status: int = 200,
                     written: dict[str, Any] | None = None) -> Response:
    """The entity with its ETag; the written document when the index could not show it."""
    if record is None:
        if written is None:
            raise ApiError(404, "entity not found")
        resp = jsonify(strip_derived(written))
        resp.headers["ETag"] = etag_of(strip_derived(written))
    else:
        resp = jsonify(record.as_json())
        resp.headers["ETag"] = record.etag
    resp.status_code = status
    return resp


COMMIT_HEADER = "X-Gantry-Commit"
"""The commit a write made, on its answer (absent when nothing changed)."""


def _with_commit(resp: Response, commit: str | None) -> Response:
    if commit:
        resp.headers[COMMIT_HEADER] = commit
    return resp


def _audit(action: str, kind: str, name: str, namespace: str, before: dict | None,
           after: dict | None, commit: str | None, **details: Any) -> None:
    audit.record(current_state().store, user=current_user(), action=action,
                 resource_type=kind, resource_name=name, source="api", ip=client_ip(),
                 before=redact(before) if before else None,
                 after=redact(after) if after else None, commit=commit,
                 details={"namespace": namespace, **details})


@bp.get("")
@require_role("viewer")
def list_entities() -> Response:
    """Every entity, filtered by namespace, owner and tag."""
    return jsonify(workspace().entities(**_filters()))


@bp.get("/<kind>")
@require_role("viewer")
def list_kind(kind: str) -> Response:
    """Entities of one kind (case-insensitive), with the same filters."""
    return jsonify(workspace().entities(kind=canonical_kind(kind), **_filters()))


@bp.get("/<kind>/<name>")
@require_role("viewer")
@checked_names
def get_entity(kind: str, name: str) -> Response:
    """One entity with its Git-derived metadata and an ETag of its document."""
    return _entity_response(requested_entity(kind, name))


@bp.post("")
@require_role("developer")
@checked_names
def create_entity() -> Response:
    """Create an entity: a new file, one commit authored by the caller; 201."""
    body = json_body()
    ws = workspace()
    user = current_user()
    ws.check_ready()  # not queued behind the start's hold on the lock
    with ws.lock:
        commit = writer.create(ws, body, user)
        metadata = body["metadata"]
        kind, name = ws.registry.canonical(body["kind"]), metadata["name"]
        namespace = metadata.get("namespace") or "default"
        created = ws.record(kind, name, namespace)
    _audit("create", kind, name, namespace, None, created and created.as_json(), commit)
    resp = _entity_response(created, 201, body)
    resp.headers["Location"] = f"{bp.url_prefix}/{kind.lower()}/{name}?namespace={namespace}"
    return _with_commit(resp, commit)


@bp.put("/<kind>/<name>")
@require_role("developer")
@checked_names
def update_entity(kind: str, name: str) -> Response:
    """Replace an entity in place in its file; 200 with the updated entity."""
    body = json_body()
    kind = canonical_kind(kind)
    namespace = request.args.get("namespace")
    body.setdefault("kind", kind)
    if isinstance(body.get("metadata"), dict):
        body["metadata"].setdefault("name", name)
        namespace = namespace or body["metadata"].get("namespace")
    namespace = namespace or "default"
    ws = workspace()
    ws.check_ready()  # not queued behind the start's hold on the lock
    with ws.lock:
        before = ws.entity(kind, name, namespace)
        commit = writer.update(ws, body, current_user(), kind=kind, name=name,
                               namespace=namespace, if_match=request.headers.get("If-Match"))
        after = ws.record(kind, name, namespace)
    _audit("update", kind, name, namespace, before, after and after.as_json(), commit,
           **({"unchanged": True} if commit is None else {}))
    return _with_commit(_entity_response(after, 200, body), commit)


@bp.delete("/<kind>/<name>")
@require_role("developer")
@checked_names
def delete_entity(kind: str, name: str) -> Response:
    """Remove an entity from its file (and the file when it held nothing else); 204."""
    kind = canonical_kind(kind)
    namespace = request.args.get("namespace") or "default"
    ws = workspace()
    ws.check_ready()  # not queued behind the start's hold on the lock
    with ws.lock:
        before = ws.entity(kind, name, namespace)
        commit = writer.delete(ws, kind, name, namespace, current_user(),
                               if_match=request.headers.get("If-Match"))
    _audit("delete", kind, name, namespace, before, None, commit)
    return _with_commit(Response(status=204), commit)

