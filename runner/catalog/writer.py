"""Entity writes through the runner: validated like CI, written in place, one commit each.

Every write follows the same steps under the workspace's write lock:

1. check the request (shape, names that are safe as file names, the entity's identity);
2. ask the write policy (`runner.auth.write_policy`) whether the caller may write this
   entity, with the entity as the catalog holds it and the team memberships of the
   catalog *before* the write, so no path that writes entities can skip it;
3. compute the new file text (a new file at `<Kind>/<namespace>/<name>.yaml`, or the
   existing file edited in place by `runner.catalog.yaml_edit`);
4. validate the entity with the validator CI runs, against the refs of the whole catalog;
5. write and commit exactly that file, authored by the caller, on top of the HEAD read at
   step 1 (`CatalogRepo.commit_files`: a moved HEAD or uncommitted edits of the file are
   refused, a failed commit leaves no file change and no commit);
6. refresh the workspace so the index, the site and the event stream see the change.

Errors are typed (`EntityWriteError` subclasses carry the HTTP status the API answers with).
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from generator.load import parse_text
from generator.site.config import locate_config
from generator.structure.entity import DEFAULT_NAMESPACE, make_ref

from ..auth import write_policy
from ..errors import StatusError
from .git import RUNNER, GitError, HeadMoved, Identity, UncommittedChanges
from .records import etag_of
from .workspace import Workspace
from .yaml_edit import (
    DERIVED_METADATA,
    EditError,
    edit_file,
    identity_of,
    new_file_text,
    strip_derived,
)

log = logging.getLogger(__name__)

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_LISTED_REFERRERS = 10


class EntityWriteError(StatusError):
    """An entity write that was refused; `status` is the HTTP status, `extra` goes into the
    body. Nothing was written."""

    status = 400


class BadRequest(EntityWriteError):
    status = 400


class NotFound(EntityWriteError):
    status = 404


class Forbidden(EntityWriteError):
    """The write policy refuses the caller; `extra["rule"]` names the rule."""

    status = 403


class Conflict(EntityWriteError):
    status = 409


class Invalid(EntityWriteError):
    """The entity fails validation; `extra["problems"]` lists the validator's findings."""

    status = 422


class ReadOnly(EntityWriteError):
    status = 503


class WriteFailed(EntityWriteError):
    status = 500


def writer_of(author: Any) -> write_policy.Writer:
    """Who the write policy judges: the author's name and effective role.

    An author without a role (a bare `Identity`) is refused: every write is made on
    someone's behalf, and that someone's rights decide.
    """
    name = getattr(author, "username", None) or getattr(author, "name", None) or str(author)
    role = getattr(author, "role", None)
    if not isinstance(role, str) or not role:
        raise Forbidden(f"the write on behalf of {name!r} carries no role, so the write "
                        "policy cannot allow it", rule=write_policy.RULE_ROLE)
    return write_policy.Writer(str(name), role)


def _team_members(workspace: Workspace) -> write_policy.MembersOf:
    """Members of a Team entity as the index holds it now, i.e. before this write."""
    def members_of(namespace: str, name: str) -> list[str] | None:
        team = workspace.entity("Team", name, namespace)
        if team is None:
            return None
        spec = team.get("spec") if isinstance(team.get("spec"), dict) else {}
        listed = spec.get("members") if isinstance(spec.get("members"), list) else []
        return [m["name"] for m in listed
                if isinstance(m, dict) and isinstance(m.get("name"), str)]

    return members_of


def _authorize(workspace: Workspace, writer: write_policy.Writer,
               operation: write_policy.Operation, before: dict[str, Any] | None,
               after: dict[str, Any] | None, relpath: str | None = None) -> None:
    """Raise Forbidden when the write policy refuses this write (checked under the lock,
    before anything is computed or written)."""
    refusal = write_policy.entity_write_refusal(writer, operation, before, after,
                                                _team_members(workspace))
    if refusal is None and relpath is not None and workspace.repo_root is not None and \
            _target_path(workspace, relpath) == locate_config(workspace.catalog_root):
        refusal = write_policy.dashboard_refusal(writer)  # the dashboard's file stays admin-only
    if refusal is not None:
        raise Forbidden(refusal.message, rule=refusal.rule)


# --- request checks ------------------------------------------------------------------------

def _safe_segment(value: str, field: str) -> None:
    if not _SAFE_SEGMENT.match(value) or ".." in value:
        raise BadRequest(f"{field} {value!r} cannot be used in a file path: use letters, "
                         "digits, '.', '_' and '-', starting with a letter or digit "
                         "(no '/', '\\' or '..')")


def _prepare(workspace: Workspace, body: Any) -> dict[str, Any]:
    """The entity document to write: checked shape, derived fields removed, kind spelled
    as its schema spells it."""
    if not isinstance(body, dict):
        raise BadRequest("the entity must be a JSON object")
    data = strip_derived(body)
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise BadRequest("the entity needs a 'kind' (for example \"Service\")")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise BadRequest("the entity needs a 'metadata' object with at least a 'name'")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest("metadata.name is required and must be a string")
    namespace = metadata.get("namespace", DEFAULT_NAMESPACE)
    if not isinstance(namespace, str) or not namespace:
        raise BadRequest("metadata.namespace must be a non-empty string when given")
    _safe_segment(kind, "kind")
    _safe_segment(name, "metadata.name")
    _safe_segment(namespace, "metadata.namespace")
    canonical = workspace.registry.canonical(kind)
    if canonical is None:
        raise Invalid(f"unknown kind {kind!r}; known kinds: "
                      f"{', '.join(workspace.registry.kinds())}", problems=[])
    data["kind"] = canonical
    return data


def _check_writable(workspace: Workspace) -> None:
    if workspace.read_only or workspace.repo is None:
        raise ReadOnly(f"the catalog is read-only: {workspace.read_only_reason}; "
                       "entity writes need the catalog inside a Git working tree")


def _target_path(workspace: Workspace, relpath: str) -> Path:
    full = (workspace.catalog_root / relpath).resolve()
    if not full.is_relative_to(workspace.catalog_root):
        raise BadRequest(f"{relpath!r} would be outside the catalog directory")
    return full


def _matches(if_match: str | None, etag: str) -> bool:
    if if_match is None:
        return True
    for candidate in (part.strip() for part in if_match.split(",")):
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


# --- validation ----------------------------------------------------------------------------

def _validate(workspace: Workspace, data: dict[str, Any], relpath: str, text: str) -> None:
    """Refuse (422) an entity the CI validator would refuse, with its messages.

    The proposed file is validated from a scratch folder, so each problem carries the line
    and column it would have in the file.
    """
    from generator.validate import validate_entities

    target = identity_of(data)
    with tempfile.TemporaryDirectory(prefix="gantry-write-") as scratch:
        proposed = Path(scratch) / relpath
        proposed.parent.mkdir(parents=True, exist_ok=True)
        proposed.write_text(text, encoding="utf-8")
        entities, _problems = parse_text(text, _display(workspace, relpath), relpath)
        written = [entity for entity in entities if identity_of(entity.data) == target]
        if not written:
            raise WriteFailed("the entity could not be located in the text to be written")
        known = workspace.refs_view({written[0].ref})
        problems = validate_entities(written, known, workspace.registry, Path(scratch),
                                     workspace.display_root())
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        first = errors[0].message
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Invalid(f"{data['kind']} '{target[1]}/{target[2]}' is invalid: {first}{more}",
                      problems=[p.as_dict() for p in errors])


def _display(workspace: Workspace, relpath: str) -> str:
    root = workspace.display_root()
    return f"{root}/{relpath}" if relpath else root


# --- file and commit -----------------------------------------------------------------------

def _commit(workspace: Workspace, relpath: str, content: bytes | None, message: str,
            author: Identity, expected_head: str | None) -> str:
    """Write (or delete) the file and commit it on `expected_head` (`commit_files`)."""
    repo = workspace.repo
    assert repo is not None
    _target_path(workspace, relpath)
    try:
        return repo.commit_files({workspace.repo_path(relpath): content}, author,
                                 expected_head, message, committer=RUNNER)
    except UncommittedChanges as exc:
        raise Conflict(f"{_display(workspace, relpath)} has uncommitted changes in the "
                       "working tree; commit or discard them before writing through the "
                       "API") from exc
    except HeadMoved as exc:
        raise Conflict(str(exc)) from exc
    except GitError as exc:
        raise WriteFailed(f"the change could not be committed: {exc}") from exc


def _share(workspace: Workspace, relpath: str, parent: str | None, commit: str) -> str:
    """Push the write to `origin` when replicas share the catalog (see `replica_sync`)."""
    if workspace.sync is None:
        return commit
    return workspace.sync.push_write(relpath, parent, commit)


def _refresh(workspace: Workspace, relpath: str) -> None:
    """Bring the index up to date after a commit; the commit stands even if this fails."""
    try:
        workspace.refresh([relpath])
    except Exception:  # the next write or restart re-reads the file; the log says why
        log.exception("committed %s, but the index could not be updated", relpath)


def _message(verb: str, data: dict[str, Any], author: Identity) -> str:
    kind, namespace, name = data["kind"], *identity_of(data)[1:]
    return (f"{verb} {kind} {namespace}/{name}\n\n"
            f"Written through the Gantry API by {author.name}.\n")


def _read_file(workspace: Workspace, relpath: str) -> str:
    try:
        return _target_path(workspace, relpath).read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise NotFound(f"the file {relpath} of the entity no longer exists; the index is "
                       "behind the working tree") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise Conflict(f"the file {relpath} cannot be read: {exc}") from exc


def _current_document(text: str, relpath: str, target: tuple[str, str, str]) -> dict | None:
    entities, _problems = parse_text(text, relpath, relpath)
    for entity in entities:
        if identity_of(entity.data) == target:
            return entity.data
    return None


def _existing(workspace: Workspace, kind: str, name: str, namespace: str
              ) -> tuple[str, str, dict[str, Any]]:
    """(path, file text, current document) of an existing entity, or NotFound."""
    record = workspace.record(kind, name, namespace)
    if record is None:
        raise NotFound(f"entity not found: {kind} '{namespace}/{name}'")
    text = _read_file(workspace, record.path)
    document = _current_document(text, record.path, identity_of(record.data))
    if document is None:
        raise NotFound(f"entity not found: {kind} '{namespace}/{name}' is no longer in "
                       f"{record.path}")
    return record.path, text, document


def _edit(text: str, target: tuple[str, str, str], data: dict[str, Any] | None) -> str:
    try:
        return edit_file(text, target, data)
    except KeyError as exc:
        raise NotFound(f"entity not found: {target[0]} '{target[1]}/{target[2]}'") from exc
    except EditError as exc:
        raise Conflict(str(exc)) from exc


# --- the three writes ------------------------------------------------------------------------

def create(workspace: Workspace, entity_json: Any, author: Any) -> str:
    """Create an entity at `<Kind>/<namespace>/<name>.yaml`; returns the commit id.

    Raises Conflict when the entity (or a file at its path) exists, Invalid when it fails
    validation, BadRequest for a malformed body, ReadOnly outside Git.
    """
    person = Identity.for_user(author)
    writer = writer_of(author)
    workspace.check_ready()
    with workspace.lock:
        _check_writable(workspace)
        workspace.follow_head()
        head = workspace.repo.head() if workspace.repo is not None else None
        data = _prepare(workspace, entity_json)
        _authorize(workspace, writer, "create", None, data)
        _kind, namespace, name = identity_of(data)
        kind = data["kind"]
        existing = workspace.record(kind, name, namespace)
        if existing is not None:
            raise Conflict(f"{kind} '{namespace}/{name}' already exists (in "
                           f"{_display(workspace, existing.path)}); use PUT to update it")
        relpath = f"{kind}/{namespace}/{name}.yaml"
        if _target_path(workspace, relpath).exists():
            raise Conflict(f"{_display(workspace, relpath)} already exists")
        try:
            text = new_file_text(data)
        except EditError as exc:
            raise BadRequest(str(exc)) from exc
        _validate(workspace, data, relpath, text)
        commit = _commit(workspace, relpath, text.encode("utf-8"),
                         _message("Create", data, person), person, head)
        commit = _share(workspace, relpath, head, commit)
        _refresh(workspace, relpath)
        return commit


def update(workspace: Workspace, entity_json: Any, author: Any, *, kind: str | None = None,
           name: str | None = None, namespace: str | None = None,
           if_match: str | None = None) -> str | None:
    """Replace an entity in place in the file that holds it; returns the commit id.

    `kind`, `name` and `namespace` (from the URL) must agree with the body when given.
    None is returned when the entity is unchanged (nothing to commit). Raises Conflict when
    `if_match` is not the entity's current ETag.
    """
    person = Identity.for_user(author)
    writer = writer_of(author)
    workspace.check_ready()
    with workspace.lock:
        _check_writable(workspace)
        workspace.follow_head()
        head = workspace.repo.head() if workspace.repo is not None else None
        data = _prepare(workspace, entity_json)
        _check_identity(data, kind, name, namespace)
        _kind, ns, entity_name = identity_of(data)
        relpath, text, document = _existing(workspace, data["kind"], entity_name, ns)
        _authorize(workspace, writer, "update", document, data, relpath)
        if not _matches(if_match, etag_of(document)):
            raise Conflict("the entity changed since you read it (If-Match does not match "
                           f"its ETag {etag_of(document)}); read it again and retry",
                           etag=etag_of(document))
        new_text = _edit(text, identity_of(document), _keep_namespace_style(data, document))
        if new_text == text:
            return None
        _validate(workspace, data, relpath, new_text)
        commit = _commit(workspace, relpath, new_text.encode("utf-8"),
                         _message("Update", data, person), person, head)
        commit = _share(workspace, relpath, head, commit)
        _refresh(workspace, relpath)
        return commit


def delete(workspace: Workspace, kind: str, name: str, namespace: str | None, author: Any, *,
           if_match: str | None = None) -> str:
    """Remove an entity from its file (the file too when it was its only document).

    Refused with Conflict while other entities still reference it, since the catalog
    would then fail validation.
    """
    person = Identity.for_user(author)
    writer = writer_of(author)
    namespace = namespace or DEFAULT_NAMESPACE
    workspace.check_ready()
    with workspace.lock:
        _check_writable(workspace)
        workspace.follow_head()
        head = workspace.repo.head() if workspace.repo is not None else None
        for value, field in ((kind, "kind"), (name, "name"), (namespace, "namespace")):
            _safe_segment(value, field)
        canonical = workspace.registry.canonical(kind)
        if canonical is None:
            raise NotFound(f"unknown kind {kind!r}; known kinds: "
                           f"{', '.join(workspace.registry.kinds())}")
        relpath, text, document = _existing(workspace, canonical, name, namespace)
        _authorize(workspace, writer, "delete", {**document, "kind": canonical}, None, relpath)
        if not _matches(if_match, etag_of(document)):
            raise Conflict("the entity changed since you read it (If-Match does not match "
                           f"its ETag {etag_of(document)}); read it again and retry",
                           etag=etag_of(document))
        ref = make_ref(canonical, namespace, name)
        referrers = workspace.referrers(ref)
        if referrers:
            listed = ", ".join(referrers[:MAX_LISTED_REFERRERS])
            more = f" and {len(referrers) - MAX_LISTED_REFERRERS} more" \
                if len(referrers) > MAX_LISTED_REFERRERS else ""
            raise Conflict(f"{canonical} '{namespace}/{name}' is still referenced by "
                           f"{listed}{more}; change those first", referrers=referrers)
        new_text = _edit(text, identity_of(document), None)
        content = new_text.encode("utf-8") if new_text.strip() else None
        commit = _commit(workspace, relpath, content,
                         _message("Delete", {**document, "kind": canonical}, person), person,
                         head)
        commit = _share(workspace, relpath, head, commit)
        _refresh(workspace, relpath)
        return commit


def _check_identity(data: dict[str, Any], kind: str | None, name: str | None,
                    namespace: str | None) -> None:
    body_kind, body_namespace, body_name = identity_of(data)
    if kind is not None and kind.lower() != body_kind:
        raise BadRequest(f"the body's kind {data['kind']!r} does not match the URL's {kind!r}")
    if name is not None and name != body_name:
        raise BadRequest(f"the body's metadata.name {body_name!r} does not match the URL's "
                         f"{name!r}; renaming is a create and a delete")
    if namespace is not None and namespace != body_namespace:
        raise BadRequest(f"the body's namespace {body_namespace!r} does not match the "
                         f"requested namespace {namespace!r}")


def _keep_namespace_style(data: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Do not add `namespace: default` to a file that leaves the namespace implicit.

    The API shows every entity with its namespace, so a document read from GET and sent
    back carries it even when the file never said it.
    """
    metadata, written = data.get("metadata"), document.get("metadata")
    if isinstance(metadata, dict) and isinstance(written, dict) and \
            "namespace" not in written and metadata.get("namespace") == DEFAULT_NAMESPACE:
        data = {**data, "metadata": {k: v for k, v in metadata.items() if k != "namespace"}}
    return data


__all__ = ["BadRequest", "Conflict", "DERIVED_METADATA", "EntityWriteError", "Forbidden",
           "Invalid", "NotFound", "ReadOnly", "WriteFailed", "create", "delete", "update",
           "writer_of"]

