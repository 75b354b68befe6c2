"""`${VAR}` placeholders in executor configuration, resolved from the runner's environment.

Resolution fails closed: when any referenced variable is unset, nothing is resolved and the run
fails before a request is sent. Every resolved value is treated as a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariables(Exception):
    """Some `${VAR}` placeholders name variables that are not set."""

    def __init__(self, names: list[str]):
        self.names = names
        listed = ", ".join(names)
        super().__init__(f"environment variable(s) not set on the runner: {listed}")


def names_in(value: Any) -> list[str]:
    """The variable names referenced by a string, list or mapping of strings, in order."""
    found: list[str] = []
    for text in _strings(value):
        for name in _PLACEHOLDER.findall(text):
            if name not in found:
                found.append(name)
    return found


def resolve(value: Any, secrets: list[str], env: Mapping[str, str] | None = None) -> Any:
    """`value` with every `${VAR}` replaced; each value used is appended to `secrets`.

    Strings, lists and mappings (values only) are resolved; other values are returned as they
    are. Raises `MissingVariables` naming every unset variable, before anything is replaced.
    """
    env = os.environ if env is None else env
    missing = [name for name in names_in(value) if name not in env]
    if missing:
        raise MissingVariables(missing)
    return _replace(value, secrets, env)


def _replace(value: Any, secrets: list[str], env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            resolved = env[match.group(1)]
            if resolved and resolved not in secrets:
                secrets.append(resolved)
            return resolved

        return _PLACEHOLDER.sub(substitute, value)
    if isinstance(value, list):
        return [_replace(item, secrets, env) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, secrets, env) for key, item in value.items()}
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []
