"""`internal`: entity automation through the same Git-backed write path as the API.

Config:
- `operation`: `create`, `update` or `delete`.
- `target` (`update`, `delete`): `{kind, name, namespace}` of the entity.
- `entity` (`create`): the whole entity to create.
- `update` changes: `setLabels` / `setAnnotations` (maps merged into metadata; a null value
  removes the key), `set` (a map of dotted paths such as `spec.lifecycle` to values).
- `message` may describe the change for people reading the action; the commit itself gets
  the runner's standard message for entity writes (it names the entity and the author).

Strings may hold `{{ inputs.NAME }}`, `{{ run.id }}` and `{{ run.triggeredBy }}`. A string that
is only one template takes the input's value as it is (a number stays a number); inside
longer text the value is written as text. Each write is one commit authored by the user who
triggered the run, and an audit entry with the entity before and after and the commit.

Whose rights: the write is made on behalf of the run's requester and judged by the same write
policy as an API write (`runner.auth.write_policy`, consulted inside `runner.catalog.writer`),
with `ctx.requester_role` (the requester's effective role when the run was asked for — an API
key's role when lower than its owner's — capped by their account's role when the run executes)
and the team memberships of the catalog before the write. An action is therefore never a way
around the policy: a developer's run cannot write a Team or Action entity, nor an entity of a
team that does not list them. Running with the rights of whoever wrote the Action instead would
let any caller the action admits borrow its author's rights. A requester whose account no longer
exists fails the run without writing.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from runner.catalog import writer
from runner.catalog.git import Identity

from .base import BaseExecutor, Done, Failed, RunContext, Step

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")
_DERIVED = ("createdAt", "updatedAt", "createdBy")

class _TemplateError(Exception):
    pass


def _render(value: Any, ctx: RunContext) -> Any:
    if isinstance(value, str):
        whole = _TEMPLATE.fullmatch(value.strip())
        if whole:
            return _lookup(whole.group(1), whole.group(2), ctx)
        return _TEMPLATE.sub(lambda m: _text(_lookup(m.group(1), m.group(2), ctx)), value)
    if isinstance(value, list):
        return [_render(item, ctx) for item in value]
    if isinstance(value, dict):
        return {key: _render(item, ctx) for key, item in value.items()}
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(scope: str, name: str, ctx: RunContext) -> Any:
    if scope == "inputs":
        declared = {item.get("name") for item in (ctx.action.get("spec") or {}).get("inputs")
                    or [] if isinstance(item, dict)}
        if name not in ctx.inputs and name not in declared:
            raise _TemplateError(f"{{{{ inputs.{name} }}}} names no input of this action")
        return ctx.inputs.get(name)
    if scope == "run" and name in ("id", "triggeredBy", "actionName"):
        return {"id": ctx.run_id, "triggeredBy": ctx.triggered_by,
                "actionName": ctx.action_name}[name]
    raise _TemplateError(f"unknown template {{{{ {scope}.{name} }}}}")


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise _TemplateError(f"set: {dotted!r} goes through {part!r}, which is not a mapping")
        node = child
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def _merge_strings(metadata: dict[str, Any], key: str, changes: dict[str, Any]) -> None:
    current = dict(metadata.get(key) or {})
    for name, value in changes.items():
        if value is None:
            current.pop(name, None)
        else:
            current[str(name)] = _text(value)
    metadata[key] = current


def _writable(entity: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(entity)
    metadata = data.get("metadata") or {}
    for key in _DERIVED:
        metadata.pop(key, None)
    return data


class InternalExecutor(BaseExecutor):
    type = "internal"

    def start(self, ctx: RunContext) -> Step:
        if ctx.workspace is None:
            return Failed("no catalog workspace is available on this runner")
        role = ctx.requester_role
        if role is None:
            return Failed(f"the requester {ctx.triggered_by!r} has no account on this runner any "
                          "more, so the catalog write cannot be judged on their behalf; "
                          "nothing was written")
        author = Identity.for_user(ctx.triggered_by, email=ctx.triggered_by_email, role=role)
        try:
            config = _render(ctx.config, ctx)
        except _TemplateError as exc:
            return Failed(f"config: {exc}")
        operation = config["operation"]
        try:
            if operation == "create":
                after = _writable(config["entity"])
                commit = writer.create(ctx.workspace, after, author)
                before = None
                kind, name = after.get("kind"), (after.get("metadata") or {}).get("name")
                namespace = (after.get("metadata") or {}).get("namespace") or "default"
            else:
                target = config["target"]
                kind, name = str(target["kind"]), str(target["name"])
                namespace = str(target.get("namespace") or "default")
                current = ctx.workspace.entity(kind, name, namespace)
                if current is None:
                    return Failed(f"{kind} {namespace}/{name} does not exist")
                before = _writable(current)
                if operation == "delete":
                    after = None
                    commit = writer.delete(ctx.workspace, kind, name, namespace, author)
                else:
                    after = self._changed(before, config)
                    commit = writer.update(ctx.workspace, after, author)
        except writer.EntityWriteError as exc:
            return Failed(f"the catalog refused the {operation}: {exc.message}",
                          {"problems": exc.extra.get("problems", [])} if exc.extra else {})
        except _TemplateError as exc:
            return Failed(f"config: {exc}")
        resource = f"{namespace}/{name}"
        ctx.audit(action=f"action.{operation}", resource_type=str(kind), resource_name=resource,
                  before=before, after=after, commit=commit,
                  details={"runId": ctx.run_id, "actionName": ctx.action_name})
        return Done({"operation": operation, "entity": f"{kind}/{resource}",
                     "commit": commit, "changed": commit is not None})

    def _changed(self, entity: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(entity)
        metadata = data.setdefault("metadata", {})
        if config.get("setLabels"):
            _merge_strings(metadata, "labels", config["setLabels"])
        if config.get("setAnnotations"):
            _merge_strings(metadata, "annotations", config["setAnnotations"])
        for path, value in (config.get("set") or {}).items():
            _set_path(data, path, value)
        return data


EXECUTOR = InternalExecutor()
