"""The dashboard part of the repository's `gantry.yaml`: read, validate, edit and commit.

The file is edited with ruamel.yaml round-tripping, so comments and the keys the runner
does not manage (title, repoUrl, runnerUrl, …) stay as they were, and the change is one
commit authored by the admin who made it — the static site reads the same file.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .catalog_git import CatalogRepo, GitError, HeadMoved, Person, find_work_tree

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
    """The dashboard settings as plain JSON (missing keys become empty lists)."""
    path = config_path(catalog)
    data: Any = {}
    if path.is_file():
        try:
            data = _yaml().load(path.read_text(encoding="utf-8")) or {}
        except YAMLError as exc:
            raise DashboardError(f"{CONFIG_FILE} is not valid YAML: {exc}", status=500) from None
    if not isinstance(data, dict):
        data = {}
    return {key: _plain(data.get(key) or []) for key in DASHBOARD_KEYS}


def _text(value: Any, where: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise DashboardError(f"{where} must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise DashboardError(f"{where} is longer than {MAX_TEXT} characters")
    return value


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


def write(catalog: Path, changes: dict[str, list[dict[str, Any]]], *, author: Person,
          lock: Any = None) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Commit the new settings; returns (before, after, commit id or None when unchanged)."""
    root = work_tree(catalog)
    path = root / CONFIG_FILE
    with lock or _fallback_lock:
        before = read(catalog)
        original = path.read_text(encoding="utf-8") if path.is_file() else ""
        text = render(original, changes)
        after = {**before, **changes}
        if text == original:
            return before, after, None
        repo = CatalogRepo(root)
        try:
            commit = repo.commit_file(CONFIG_FILE, text.encode("utf-8"),
                                      "Update the dashboard configuration", author=author,
                                      committer=author, expected_head=repo.head())
        except HeadMoved as exc:
            raise DashboardError(str(exc), status=409) from None
        except GitError as exc:
            raise DashboardError(f"the dashboard could not be committed: {exc}",
                                 status=500) from None
        tmp = path.with_name(f".{CONFIG_FILE}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return before, after, commit
