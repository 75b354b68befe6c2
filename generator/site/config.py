"""Reading the repository's `gantry.yaml` (site title, repoUrl, runnerUrl, dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONFIG_NAME = "gantry.yaml"


class ConfigError(ValueError):
    """gantry.yaml cannot be used; the message names the file and what is wrong."""


def default_config_path(catalog_root: Path) -> Path:
    """gantry.yaml sits at the top of the repository, next to the catalog folder."""
    return Path(catalog_root).resolve().parent / CONFIG_NAME


def load_config(path: Path | None) -> dict[str, Any]:
    """The settings as a dict; an absent file means no settings."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        value = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: must be a mapping of settings, not {type(value).__name__}")
    return value
