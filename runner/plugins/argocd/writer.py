"""Read the catalog for discovery and write its changes as ONE Git commit.

Existing entities are edited in place with `runner.catalog.yaml_edit` (comments, key order
and formatting of everything else are kept); new Services go to `Service/default/<name>.yaml`.
All new file texts are computed and checked before the first byte is written, and they are
committed by `CatalogRepo.commit_files` on top of the HEAD the catalog was read at: a HEAD
that moved meanwhile, or uncommitted edits of a file to be written, refuse the whole change,
and a change that cannot be committed leaves the catalog untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git

from generator.load import load_catalog
from generator.structure.entity import DEFAULT_NAMESPACE
from runner.catalog.git import (
    CatalogRepo,
    GitError,
    HeadMoved,
    Identity,
    UncommittedChanges,
    find_work_tree,
)
from runner.catalog.yaml_edit import edit_file, identity_of, new_file_text
from runner.errors import StatusError

from .discovery import Change, ExistingEntity

NEW_FILE_HEADER = (
    "# Discovered from ArgoCD. Edit freely: discovery only refreshes the argocd.io/*\n"
    "# annotations and fills fields that are absent.\n"
)


class DiscoveryWriteError(StatusError):
    """The discovered change cannot be written or committed; nothing was changed."""

    status = 409


@dataclass
class CatalogView:
    """What discovery needs to know of the catalog."""

    environments: set[str]
    services: dict[str, ExistingEntity]


def read_catalog(root: Path) -> CatalogView:
    """Environment names and Services by name (the `default` namespace wins a tie)."""
    result = load_catalog(root)
    environments: set[str] = set()
    services: dict[str, ExistingEntity] = {}
    for entity in result.entities:
        if entity.kind == "Environment" and entity.name:
            environments.add(entity.name)
        elif entity.kind == "Service" and entity.name:
            known = services.get(entity.name)
            if known is None or (entity.namespace == DEFAULT_NAMESPACE and
                                 identity_of(known.data)[1] != DEFAULT_NAMESPACE):
                services[entity.name] = ExistingEntity(entity.path, entity.doc_index,
                                                       entity.data)
    return CatalogView(environments, services)


def new_path(name: str) -> str:
    return f"Service/{DEFAULT_NAMESPACE}/{name}.yaml"


def render(root: Path, changes: list[Change]) -> dict[str, str]:
    """Relative path → new text of every file the changes touch (nothing written yet)."""
    texts: dict[str, str] = {}
    for change in changes:
        if change.existing is not None:
            path = change.existing.path
            original = texts.get(path)
            if original is None:
                original = (root / path).read_text(encoding="utf-8")
            try:
                texts[path] = edit_file(original, identity_of(change.existing.data), change.data)
            except KeyError as exc:
                raise DiscoveryWriteError(f"{path}: the Service {change.name} moved while "
                                          "discovery ran; try again") from exc
            except Exception as exc:
                raise DiscoveryWriteError(f"{path}: cannot update Service {change.name}: "
                                          f"{exc}") from exc
            continue
        path = new_path(change.name)
        if (root / path).exists() or path in texts:
            raise DiscoveryWriteError(f"{path} already exists but holds no Service "
                                      f"{change.name}")
        texts[path] = NEW_FILE_HEADER + new_file_text(change.data)
    return texts


def catalog_head(root: Path) -> str | None:
    """The commit the catalog at `root` is read at (None outside Git or before a commit);
    the change is committed on top of it or not at all."""
    top, _reason = find_work_tree(root)
    if top is None:
        return None
    repo = CatalogRepo(top)
    try:
        return repo.head()
    finally:
        repo.close()


def write_and_commit(root: Path, texts: dict[str, str], message: str, author: Identity,
                     expected_head: str | None) -> str:
    """Write the files (relative to the catalog at `root`) and commit them as one commit on
    `expected_head`, authored and committed by `author`; the commit id.

    DiscoveryWriteError when the catalog is not in a Git working tree, HEAD moved, a file
    has uncommitted edits or the commit fails; every file is then as it was.
    """
    top, reason = find_work_tree(root)
    if top is None:
        raise DiscoveryWriteError(f"{root} is not inside a Git work tree; discovery commits "
                                  f"its changes ({reason})")
    catalog = root.resolve()
    changes: dict[str, bytes | None] = {
        (catalog / path).relative_to(top).as_posix(): text.encode("utf-8")
        for path, text in texts.items()}
    repo = CatalogRepo(top)
    try:
        return repo.commit_files(changes, author, expected_head, message)
    except HeadMoved as exc:
        raise DiscoveryWriteError(f"the catalog changed while discovery ran ({exc})") from exc
    except UncommittedChanges as exc:
        raise DiscoveryWriteError(f"{exc.path} has uncommitted changes; commit or discard "
                                  "them before discovery writes it") from exc
    except GitError as exc:
        raise DiscoveryWriteError(str(exc)) from exc
    finally:
        repo.close()


def default_author(root: Path) -> Identity:
    """The repository's configured user, or a neutral discovery identity."""
    try:
        reader = git.Repo(root, search_parent_directories=True).config_reader()
        name = reader.get_value("user", "name", "")
        email = reader.get_value("user", "email", "")
    except Exception:
        name = email = ""
    return Identity(str(name) or "Gantry ArgoCD discovery",
                    str(email) or "argocd-discovery@gantry.invalid")
