"""The dashboard part of the repository's `gantry.yaml`: read, validate, edit and commit.

The file is edited with ruamel.yaml round-tripping, so comments and the keys the runner
does not manage (title, repoUrl, runnerUrl, …) stay as they were, and the change is one
commit authored by the admin who made it — the static site reads the same file, found by
the same rule (`generator.site.config.locate_config`).

A change is checked against `schemas/gantry-yaml.json` (`$defs/dashboard`), the schema
editors and `gantry validate` use; only what a schema cannot say is checked by hand (text
that cannot be written as UTF-8, a URL that does not parse). Nothing is committed that the
site build could not use: the whole new text must pass the build's own reader
(`generator.site.config.parse_config`). The file is written and committed in one step by
`CatalogRepo.commit_files` (HEAD must not have moved, the file must have no uncommitted
edits, a failed commit puts it back).
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from generator.resources import schemas_dir
from generator.site.config import (
    CONFIG_NAME,
    GantryYamlError,
    locate_config,
    parse_config,
    text_problem,
)

from ..errors import StatusError
from .git import CatalogRepo, GitError, HeadMoved, Identity, UncommittedChanges, find_work_tree

DASHBOARD_KEYS = ("widgets", "announcements", "quickLinks")
SETTINGS_SCHEMA = "gantry-yaml.json"
COMMIT_MESSAGE = "Update the dashboard configuration"

_fallback_lock = threading.RLock()


class DashboardError(StatusError):
    """Invalid dashboard input (400) or a file or write that failed (409, 500)."""

    status = 400


def _yaml() -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 4096
    return rt


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def work_tree(catalog: Path) -> Path:
    """The Git working tree the dashboard commits to; 409 when there is none."""
    root, reason = find_work_tree(catalog)
    if root is None:
        raise DashboardError(f"the dashboard cannot be changed: {reason}", status=409)
    return root


def read(catalog: Path) -> dict[str, Any]:
    """The dashboard settings as plain JSON (missing keys become empty lists).

    A file that cannot be read is the repository's state, not a runner failure: 409 with
    what is wrong, so the file can be fixed in Git.
    """
    path = locate_config(catalog)
    data: Any = {}
    if path.is_file():
        try:
            data = _yaml().load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, YAMLError, RecursionError) as exc:
            raise DashboardError(f"{CONFIG_NAME} cannot be read: {_first_line(exc)}",
                                 status=409) from None
    if not isinstance(data, dict):
        data = {}
    return {key: _plain(data.get(key) or []) for key in DASHBOARD_KEYS}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_settings(text: str) -> dict[str, Any]:
    """gantry.yaml's text as the site build reads it; DashboardError (409) naming the first
    problem when the build could not use it."""
    try:
        return parse_config(text)
    except GantryYamlError as exc:
        raise DashboardError(str(exc), status=409) from None


@cache
def _validator() -> Draft202012Validator:
    """The validator of `$defs/dashboard` of the bundled settings schema."""
    document = json.loads((schemas_dir() / SETTINGS_SCHEMA).read_text(encoding="utf-8"))
    return Draft202012Validator({"$schema": document["$schema"], "$defs": document["$defs"],
                                 "$ref": "#/$defs/dashboard"})


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: ValidationError) -> str:
    """A schema violation in words: the path of the bad field and what is wrong."""
    where, value = _where(error.absolute_path), error.validator_value
    kind = error.validator
    if not where:
        if kind == "additionalProperties":
            unknown = sorted(set(error.instance) - set(DASHBOARD_KEYS))
            return (f"unknown dashboard setting {unknown[0]!r}; allowed: "
                    f"{', '.join(DASHBOARD_KEYS)}")
        if kind == "minProperties":
            return f"send at least one of {', '.join(DASHBOARD_KEYS)}"
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{where}: unknown field {extra[0]!r}"
    if kind == "required":
        missing = [name for name in value if name not in error.instance]
        return f"{where}.{missing[0]} is required"
    words = {"array": "a list", "object": "an object", "string": "a non-empty string",
             "boolean": "true or false"}
    if kind == "type":
        return f"{where or 'the settings'} must be {words.get(value, value)}"
    if kind in ("minLength",) or (kind == "pattern" and value == "\\S"):
        return f"{where} must be a non-empty string"
    if kind == "pattern":
        return f"{where} must be an absolute http(s) URL"
    if kind == "maxLength":
        return f"{where} is longer than {value} characters"
    if kind == "maxItems":
        return f"{where} has more than {value} entries"
    if kind == "enum":
        return f"{where} must be one of {', '.join(map(str, value))}"
    return f"{where}: {error.message}"


def _world_problem(body: dict[str, Any]) -> str | None:
    """What the schema cannot say: text not writable as UTF-8, a URL that does not parse."""
    for key in DASHBOARD_KEYS:
        for index, item in enumerate(body.get(key) or []):
            for field, value in item.items():
                if isinstance(value, str) and text_problem(value):
                    return f"{key}[{index}].{field} {text_problem(value)}"
            if key == "quickLinks":
                try:
                    parts = urlsplit(item["url"])
                except ValueError:
                    return f"{key}[{index}].url is not a valid URL"
                if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                    return f"{key}[{index}].url must be an absolute http(s) URL"
    return None


def validate(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The settings to write, with defaults filled in; 400 names the first bad field."""
    error = best_match(_validator().iter_errors(body))
    if error is not None:
        raise DashboardError(_message(error))
    problem = _world_problem(body)
    if problem:
        raise DashboardError(problem)
    clean: dict[str, list[dict[str, Any]]] = {}
    if "widgets" in body:
        clean["widgets"] = [{"id": item["id"], "enabled": item.get("enabled", True)}
                            for item in body["widgets"]]
    if "announcements" in body:
        clean["announcements"] = [{"title": item["title"], "message": item["message"],
                                   "severity": item.get("severity", "info")}
                                  for item in body["announcements"]]
    if "quickLinks" in body:
        clean["quickLinks"] = [{"title": item["title"], "url": item["url"]}
                               for item in body["quickLinks"]]
    return clean


_TOP_LEVEL_KEY = re.compile(r"""^(?:"[^"]*"|'[^']*'|[A-Za-z_][\w.-]*)\s*:(?:\s|$)""")


def _key_of(line: str) -> str | None:
    match = _TOP_LEVEL_KEY.match(line)
    return match.group(0).split(":", 1)[0].strip().strip("\"'") if match else None


def _block(rt: YAML, key: str, value: Any) -> list[str]:
    out = io.StringIO()
    rt.dump({key: value}, out)
    return out.getvalue().splitlines(keepends=True)


def _splice(original: str, changes: dict[str, Any]) -> str:
    """Replace each changed top-level key's lines; every other line stays byte for byte.

    Comment and blank lines just before the next key belong to that key and are kept.
    """
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    rt = _yaml()
    for key, value in changes.items():
        starts = [i for i, line in enumerate(lines) if _key_of(line) is not None]
        here = [i for i in starts if _key_of(lines[i]) == key]
        if not here:
            lines.extend(_block(rt, key, value))
            continue
        begin = here[0]
        following = [i for i in starts if i > begin]
        stop = following[0] if following else len(lines)
        while stop > begin + 1 and (not lines[stop - 1].strip()
                                    or lines[stop - 1].startswith("#")):
            stop -= 1
        lines[begin:stop] = _block(rt, key, value)
    return "".join(lines)


def render(original: str, changes: dict[str, list[dict[str, Any]]]) -> str:
    """`original` with the changed keys replaced; comments and other keys kept."""
    rt = _yaml()
    try:
        document = rt.load(original) if original.strip() else None
    except YAMLError as exc:
        raise DashboardError(f"{CONFIG_NAME} is not valid YAML: {exc}", status=409) from None
    if document is not None and not isinstance(document, dict):
        raise DashboardError(f"{CONFIG_NAME} must hold a mapping", status=409)
    expected = {**_plain(document or {}), **changes}
    spliced = _splice(original, changes)
    try:
        if _plain(YAML(typ="safe").load(spliced)) == expected:
            return spliced
    except YAMLError:
        pass
    if document is None:
        document = rt.load("{}")
        document.fa.set_block_style()
    for key, value in changes.items():
        document[key] = value
    out = io.StringIO()
    rt.dump(document, out)
    return out.getvalue()


@dataclass(frozen=True)
class DashboardChange:
    """A change of gantry.yaml computed on `head`: the new file bytes (None when nothing
    changes) and the settings before and after."""

    relpath: str
    head: str | None
    content: bytes | None
    before: dict[str, Any]
    after: dict[str, Any]


Share = Callable[[list[str], str | None, str], str]
"""Publishes a commit changing these repository paths, made on this parent (`push_commit`)."""


def write(catalog: Path, changes: dict[str, list[dict[str, Any]]], *, author: Identity,
          lock: Any = None, share: Share | None = None
          ) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Commit the new settings; returns (before, after, commit id or None when unchanged).

    Refused (409) when gantry.yaml has uncommitted changes (they are someone else's), when
    HEAD moved while the change was prepared, or when the result is something the site
    build could not use. `share` publishes the commit (replicas push it to `origin`) before
    the lock is let go, and returns it as published.
    """
    root = work_tree(catalog)
    with lock or _fallback_lock:
        repo = CatalogRepo(root)
        try:
            change = prepare(repo, catalog, changes)
            made = commit(repo, change, author)
            if made is not None and share is not None:
                made = share([change.relpath], change.head, made)
            return change.before, change.after, made
        finally:
            repo.close()


def prepare(repo: CatalogRepo, catalog: Path, changes: dict[str, list[dict[str, Any]]]
            ) -> DashboardChange:
    """The new gantry.yaml for `changes`, computed on the current HEAD; 409 when the file
    has uncommitted edits or the result is something the site build could not use."""
    path = locate_config(catalog)
    if not path.is_relative_to(repo.work_tree):
        raise DashboardError(f"the dashboard cannot be changed: {path} is outside the Git "
                             f"working tree {repo.work_tree}", status=409)
    relpath = path.relative_to(repo.work_tree).as_posix()
    head = repo.head()
    current = path.read_bytes() if path.is_file() else None
    if current != repo.blob_at_head(relpath):
        raise _uncommitted()
    before = read(catalog)
    original = current.decode("utf-8") if current is not None else ""
    text = render(original, changes)
    after = {**before, **changes}
    if text == original:
        return DashboardChange(relpath, head, None, before, after)
    load_settings(text)
    return DashboardChange(relpath, head, text.encode("utf-8"), before, after)


def commit(repo: CatalogRepo, change: DashboardChange, author: Identity) -> str | None:
    """Write and commit a prepared change on the HEAD it was computed on (None when there
    is nothing to commit); 409 when HEAD moved or the file was edited meanwhile."""
    if change.content is None:
        return None
    try:
        return repo.commit_files({change.relpath: change.content}, author, change.head,
                                 COMMIT_MESSAGE)
    except UncommittedChanges:
        raise _uncommitted() from None
    except HeadMoved as exc:
        raise DashboardError(str(exc), status=409) from None
    except GitError as exc:
        raise DashboardError(f"the dashboard could not be committed: {exc}",
                             status=500) from None


def _uncommitted() -> DashboardError:
    return DashboardError(f"{CONFIG_NAME} has uncommitted changes in the working tree; "
                          "commit or discard them before changing the dashboard", status=409)
