"""Where Gantry's own files are found: `schemas/` and `site/`.

In a checkout (or an editable install) they sit beside the packages; a regular
`pip install .` puts them under `<prefix>/share/gantry/`. `GANTRY_SCHEMAS` and
`GANTRY_SITE` point elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
_SHARE = Path(sys.prefix) / "share" / "gantry"


def _find(name: str, env: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    for candidate in (_CHECKOUT / name, _SHARE / name):
        if candidate.is_dir():
            return candidate
    return _CHECKOUT / name


def schemas_dir() -> Path:
    """The folder of built-in kind schemas (`*.json`)."""
    return _find("schemas", "GANTRY_SCHEMAS")


def site_dir() -> Path:
    """The folder of the site's Jinja2 templates and static assets."""
    return _find("site", "GANTRY_SITE")
