"""Read the catalog for discovery and write its changes as ONE Git commit.

Existing entities are edited in place with `runner.catalog.yaml_edit` (comments, key order and
formatting of everything else are kept); new Services go to `Service/default/<name>.yaml`.
All new file texts are computed and checked before the first byte is written, so a change
that cannot be written cleanly leaves the catalog untouched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import git

from generator.load import load_catalog
from generator.structure.entity import DEFAULT_NAMESPACE
from runner.catalog.git_args import GitRunError, UnsafeGitValue, run_git
from runner.catalog.yaml_edit import edit_file, identity_of, new_file_text

from .discovery import Change, ExistingEntity

GIT_TIMEOUT_SECONDS = 60
NEW_FILE_HEADER = (
    "# Discovered from ArgoCD. Edit freely: discovery only refreshes the argocd.io/*\n"
    "# annotations and fills fields that are absent.\n"
)


class WriteError(Exception):
    """The change cannot be written or committed; nothing was changed."""


@dataclass(frozen=True)
class Author:
    name: str
    email: str


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
                raise WriteError(f"{path}: the Service {change.name} moved while discovery "
                                 "ran; try again") from exc
            except Exception as exc:
                raise WriteError(f"{path}: cannot update Service {change.name}: {exc}") from exc
            continue
        path = new_path(change.name)
        if (root / path).exists() or path in texts:
            raise WriteError(f"{path} already exists but holds no Service {change.name}")
        texts[path] = NEW_FILE_HEADER + new_file_text(change.data)
    return texts


def write_files(root: Path, texts: dict[str, str]) -> None:
    """Write each file atomically (temporary file, then rename)."""
    for path, text in texts.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.gantry-tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)


def write_and_commit(root: Path, texts: dict[str, str], message: str, author: Author) -> str:
    """Write the files and commit them; on failure every file is put back as it was."""
    _work_tree(root).close()  # refuse before writing anything
    originals = {path: (root / path).read_bytes() if (root / path).exists() else None
                 for path in texts}
    try:
        write_files(root, texts)
        return commit(root, sorted(texts), message, author)
    except BaseException:
        for path, data in originals.items():
            if data is None:
                (root / path).unlink(missing_ok=True)
            else:
                (root / path).write_bytes(data)
        raise


def _work_tree(root: Path) -> git.Repo:
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise WriteError(f"{root} is not inside a Git work tree; discovery commits its "
                         "changes") from exc
    if repo.bare or repo.working_tree_dir is None:
        raise WriteError(f"{root} is in a bare Git repository, which has no work tree")
    return repo


def _git(top: Path, *args: str, paths: list[str], env: dict[str, str]) -> None:
    """Run git with `paths` after `--` (see `runner.catalog.git_args.run_git`)."""
    try:
        done = run_git(top, *args, operands=paths, env=env, timeout=GIT_TIMEOUT_SECONDS)
    except (GitRunError, UnsafeGitValue) as exc:
        raise WriteError(str(exc)) from exc
    if done.returncode != 0:
        raise WriteError(f"git {args[0]} failed: {(done.stderr or done.stdout).strip()}")


def commit(root: Path, paths: list[str], message: str, author: Author) -> str:
    """Commit exactly `paths` (relative to the catalog) with the given author; the commit id.

    Other changes staged in the repository are left alone (`git commit --only`). Author and
    committer are set explicitly in the clean environment of `run_git`: no `GIT_*` variable
    of the process (dates, directories, identities) reaches the commit.
    """
    repo = _work_tree(root)
    top = Path(repo.working_tree_dir or root).resolve()
    relative = [(root.resolve() / p).relative_to(top).as_posix() for p in paths]
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
           "GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
    try:
        _git(top, "add", paths=relative, env=env)
        _git(top, "commit", "--only", "--no-verify", "--quiet", "-m", message, paths=relative,
             env=env)
        return repo.head.commit.hexsha
    finally:
        repo.close()


def default_author(root: Path) -> Author:
    """The repository's configured user, or a neutral discovery identity."""
    try:
        reader = git.Repo(root, search_parent_directories=True).config_reader()
        name = reader.get_value("user", "name", "")
        email = reader.get_value("user", "email", "")
    except Exception:
        name = email = ""
    return Author(str(name) or "Gantry ArgoCD discovery",
                  str(email) or "argocd-discovery@gantry.invalid")
