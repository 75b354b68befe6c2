"""The Jinja2 environment of the site: autoescaping on, and the filters templates rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from .urls import safe_url


def script_json(value: Any) -> Markup:
    """JSON safe inside `<script>` and HTML: `<`, `>` and `&` become `\\u` escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def short_date(value: object) -> str:
    """`2024-05-01T10:00:00+00:00` → `2024-05-01`; anything else unchanged."""
    text = "" if value is None else str(value)
    return text[:10] if len(text) >= 10 and text[4:5] == "-" else text


def scalar_text(value: object) -> str:
    """A spec value as one line of text: lists joined, mappings left to the YAML view."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(scalar_text(item) for item in value if not isinstance(item, dict | list))
    return "" if value is None else str(value)


def environment(templates_dir: Path) -> Environment:
    """The environment used for every page; templates compile once per process."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["safe_url"] = safe_url
    env.filters["script_json"] = script_json
    env.filters["short_date"] = short_date
    env.filters["scalar_text"] = scalar_text
    return env
