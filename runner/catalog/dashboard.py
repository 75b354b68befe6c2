"""The dashboard part of the repository's `gantry.yaml`: read, validate, edit and commit.

The file is edited with ruamel.yaml round-tripping, so comments and the keys the runner
does not manage (title, repoUrl, runnerUrl, …) stay as they were, and the change is one
commit authored by the admin who made it — the static site reads the same file.

Nothing is committed that the site build could not use: the new text must load with the
build's YAML reader, hold a mapping whose dashboard settings are lists, and every string in
it must be encodable as UTF-8 (`load_settings`: the build's own rule,
`generator.site.config.settings_problem`, which the runner also applies when it reads the
file for a site build). The file is written atomically before the commit, and put back
as it was when the commit fails, the order entity writes use.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from generator.site.config import settings_problem, text_problem

from .git import CatalogRepo, GitError, HeadMoved, Person, find_work_tree

CONFIG_FILE = "gantry.yaml"
DASHBOARD_KEYS = ("widgets", "announcements", "quickLinks")
SEVERITIES = ("info", "warning", "critical")
MAX_ITEMS = 100
MAX_TEXT = 2000

_fallback_lock = threading.RLock()


class DashboardError(Exception):
    """Invalid dashboard input or a failed write; `status` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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
    root, reason = find_work_tree(catalog)
    if root is None:
        raise DashboardError(f"the dashboard cannot be changed: {reason}", status=409)
    return root


def config_path(catalog: Path) -> Path:
    """Where gantry.yaml lives: the top of the catalog's Git work tree, else beside catalog/."""
    root, _ = find_work_tree(catalog)
    return (root or Path(catalog).resolve().parent) / CONFIG_FILE


def read(catalog: Path) -> dict[str, Any]:
    """The dashboard settings as plain JSON (missing keys become empty lists).

    A file that cannot be read is the repository's state, not a runner failure: 409 with
    what is wrong, so the file can be fixed in Git.
    """
    path = config_path(catalog)
    data: Any = {}
    if path.is_file():
        try:
            data = _yaml().load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, YAMLError, RecursionError) as exc:
            raise DashboardError(f"{CONFIG_FILE} cannot be read: {_first_line(exc)}",
                                 status=409) from None
    if not isinstance(data, dict):
        data = {}
    return {key: _plain(data.get(key) or []) for key in DASHBOARD_KEYS}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _text(value: Any, where: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise DashboardError(f"{where} must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise DashboardError(f"{where} is longer than {MAX_TEXT} characters")
    problem = text_problem(value)
    if problem:
        raise DashboardError(f"{where} {problem}")
    return value


def load_settings(text: str) -> dict[str, Any]:
    """gantry.yaml's text as the site build reads it; DashboardError (409) naming the first
    problem when the build could not use it."""
    try:
        text.encode("utf-8")
        data = yaml.safe_load(text)
    except UnicodeEncodeError as exc:
        raise DashboardError(f"{CONFIG_FILE} is not valid UTF-8 text: {exc.reason}",
                             status=409) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise DashboardError(f"{CONFIG_FILE} is not valid YAML: {_first_line(exc)}",
                             status=409) from None
    problem = settings_problem(data)
    if problem:
        raise DashboardError(f"{CONFIG_FILE}: {problem}", status=409)
    return data or {}


def _items(body: dict[str, Any], key: str, fields: set[str]
           ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, item) of `body[key]`, a bounded list of objects; each item is checked for
    fields outside `fields` as it is handed out."""
    items = body[key]
    if not isinstance(items, list):
        raise DashboardError(f"{key} must be a list")
    if len(items) > MAX_ITEMS:
        raise DashboardError(f"{key} has more than {MAX_ITEMS} entries")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise DashboardError(f"{key}[{index}] must be an object")
    return _known_fields(key, items, fields)


def _known_fields(key: str, items: list[dict[str, Any]], fields: set[str]
                  ) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, item in enumerate(items):
        extra = sorted(set(item) - fields)
        if extra:
            raise DashboardError(f"{key}[{index}]: unknown field {extra[0]!r}")
        yield index, item


def validate(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The settings to write, checked field by field (400 names the first bad field)."""
    unknown = sorted(set(body) - set(DASHBOARD_KEYS))
    if unknown:
        raise DashboardError(
            f"unknown dashboard setting {unknown[0]!r}; allowed: {', '.join(DASHBOARD_KEYS)}")
    if not body:
        raise DashboardError(f"send at least one of {', '.join(DASHBOARD_KEYS)}")
    clean: dict[str, list[dict[str, Any]]] = {}
    if "widgets" in body:
        widgets = []
        for i, item in _items(body, "widgets", {"id", "enabled"}):
            widget_id = _text(item.get("id"), f"widgets[{i}].id")
            enabled = item.get("enabled", True)
            if not isinstance(enabled, bool):
                raise DashboardError(f"widgets[{i}].enabled must be true or false")
            widgets.append({"id": widget_id, "enabled": enabled})
        clean["widgets"] = widgets
    if "announcements" in body:
        announcements = []
        for i, item in _items(body, "announcements", {"title", "message", "severity"}):
            severity = item.get("severity", "info")
            if severity not in SEVERITIES:
                raise DashboardError(
                    f"announcements[{i}].severity must be one of {', '.join(SEVERITIES)}")
            announcements.append({
                "title": _text(item.get("title"), f"announcements[{i}].title"),
                "message": _text(item.get("message"), f"announcements[{i}].message"),
                "severity": severity,
            })
        clean["announcements"] = announcements
    if "quickLinks" in body:
        links = []
        for i, item in _items(body, "quickLinks", {"title", "url"}):
            url = _text(item.get("url"), f"quickLinks[{i}].url")
            try:
                parts = urlsplit(url or "")
            except ValueError:
                raise DashboardError(f"quickLinks[{i}].url is not a valid URL") from None
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise DashboardError(f"quickLinks[{i}].url must be an absolute http(s) URL")
            links.append({"title": _text(item.get("title"), f"quickLinks[{i}].title"),
                          "url": url})
        clean["quickLinks"] = links
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
        raise DashboardError(f"{CONFIG_FILE} is not valid YAML: {exc}", status=409) from None
    if document is not None and not isinstance(document, dict):
        raise DashboardError(f"{CONFIG_FILE} must hold a mapping", status=409)
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


def _write_atomic(path: Path, content: bytes) -> None:
    """Replace `path` with `content` in one step: a temporary file in the same folder,
    flushed to disk, then renamed over it (a stop leaves the old file or the new one)."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _restore(path: Path, content: bytes | None) -> None:
    if content is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomic(path, content)


def write(catalog: Path, changes: dict[str, list[dict[str, Any]]], *, author: Person,
          lock: Any = None) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Commit the new settings; returns (before, after, commit id or None when unchanged).

    Refused (409) when gantry.yaml has uncommitted changes (they are someone else's) or
    when the result is something the site build could not use.
    """
    root = work_tree(catalog)
    path = root / CONFIG_FILE
    with lock or _fallback_lock:
        repo = CatalogRepo(root)
        current = path.read_bytes() if path.is_file() else None
        if current != repo.blob_at_head(CONFIG_FILE):
            raise DashboardError(f"{CONFIG_FILE} has uncommitted changes in the working tree; "
                                 "commit or discard them before changing the dashboard",
                                 status=409)
        before = read(catalog)
        original = current.decode("utf-8") if current is not None else ""
        text = render(original, changes)
        after = {**before, **changes}
        if text == original:
            return before, after, None
        load_settings(text)
        content = text.encode("utf-8")
        head = repo.head()
        _write_atomic(path, content)
        try:
            commit = repo.commit_file(CONFIG_FILE, content,
                                      "Update the dashboard configuration", author=author,
                                      committer=author, expected_head=head)
        except BaseException as exc:
            _restore(path, current)
            if isinstance(exc, HeadMoved):
                raise DashboardError(str(exc), status=409) from None
            if isinstance(exc, GitError):
                raise DashboardError(f"the dashboard could not be committed: {exc}",
                                     status=500) from None
            raise
        return before, after, commit
