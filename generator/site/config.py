"""The one reader of the repository's `gantry.yaml` (title, repoUrl, runnerUrl, dashboard).

`gantry build`, `gantry watch`, the runner's site and its dashboard API all find the file
with `locate_config` and check it with `parse_config` (text) or `load_config` (a file), so a
file the build refuses is refused (or set aside) by the runner in the same words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

CONFIG_NAME = "gantry.yaml"
LIST_SETTINGS = ("widgets", "announcements", "quickLinks")
"""Settings the dashboard reads as lists."""


class GantryYamlError(ValueError):
    """gantry.yaml cannot be used; the message names the file and what is wrong."""


def locate_config(catalog_root: Path) -> Path:
    """Where gantry.yaml lives: at the top of the Git working tree that holds the catalog
    folder, or, outside Git, in the folder that holds the catalog folder."""
    catalog = Path(catalog_root).resolve()
    for folder in (catalog, *catalog.parents):
        if (folder / ".git").exists():
            return folder / CONFIG_NAME
    return catalog.parent / CONFIG_NAME


def load_config(path: Path | None, where: str | None = None) -> dict[str, Any]:
    """The settings in the file at `path` as a dict; an absent file means no settings.

    GantryYamlError names `where` (default: the path) and the first problem.
    """
    if path is None or not Path(path).is_file():
        return {}
    where = where or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GantryYamlError(f"{where} is not valid UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise GantryYamlError(f"cannot read {where}: {exc.strerror or exc}") from None
    return parse_config(text, where)


def parse_config(text: str, where: str = CONFIG_NAME) -> dict[str, Any]:
    """The settings in gantry.yaml's `text`, checked as the site build needs them.

    GantryYamlError names `where` and the first problem: text that is not UTF-8, not YAML,
    or settings the build cannot use (`settings_problem`).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise GantryYamlError(f"{where} is not valid UTF-8 text: {exc.reason}") from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GantryYamlError(f"cannot read {where}: not valid YAML ({reason}{at})") from None
    except RecursionError:
        raise GantryYamlError(f"cannot read {where}: not valid YAML (nested too deeply)") \
            from None
    problem = settings_problem(value)
    if problem:
        raise GantryYamlError(f"{where}: {problem}")
    return value or {}


def text_problem(value: str) -> str | None:
    """Why `value` cannot be written as UTF-8 text (a lone surrogate), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        return f"is not valid text: it holds the lone surrogate U+{ord(bad):04X}"
    return None


def _where(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def settings_problem(data: Any) -> str | None:
    """The first thing in loaded gantry.yaml settings the site build cannot use, or None.

    The settings must be a mapping; the dashboard keys lists when present; every key and
    string encodable as UTF-8 (pages are written as UTF-8). Walked without recursion and
    each container once, so deep nesting and YAML aliases that refer to themselves end.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        return f"must be a mapping of settings, not {type(data).__name__}"
    for key in LIST_SETTINGS:
        if data.get(key) is not None and not isinstance(data[key], list):
            return f"{key} must be a list, not {type(data[key]).__name__}"
    stack: list[tuple[str, Any]] = [("", data)]
    seen: set[int] = set()
    while stack:
        where, value = stack.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return f"{where or 'the file'} {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and text_problem(key):
                    return f"a key in {where or 'the file'} {text_problem(key)}"
                stack.append((_where(where, key), item))
        elif isinstance(value, list):
            stack.extend((_where(where, i), item) for i, item in enumerate(value))
    try:  # the site build keys its cache on this very dump
        json.dumps(data, sort_keys=True, default=str)
    except (ValueError, RecursionError):
        return "refers to itself through a YAML alias, or is nested too deeply"
    except TypeError:
        return "has a mapping whose keys mix numbers and text"
    return None

