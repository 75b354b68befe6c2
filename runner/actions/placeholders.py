"""`${NAME}` placeholders in executor configuration: the one place they are resolved.

An Action is written by people who must not read the runner's own secrets (developers through
the API, anyone through a catalog pull request), so a placeholder expands only a variable the
operator allowed with `GANTRY_ACTION_ENV` (comma-separated names; a trailing `*` matches every
name that starts with what precedes it). Names starting with `GANTRY_` are the runner's own
settings and never expand, whatever the allow-list says.

Resolution fails closed and all at once: a placeholder that is not allowed, or an allowed
variable that is not set, raises before anything is replaced, so the run fails before a
request is sent. Every resolved value is recorded as a secret of the run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SETTING = "GANTRY_ACTION_ENV"
RESERVED_PREFIX = "GANTRY_"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ALLOW_ENTRY = re.compile(r"^(?:\*|[A-Za-z_][A-Za-z0-9_]*\*?)$")


class PlaceholderError(Exception):
    """A placeholder cannot be resolved; the message says which and why (never a value)."""


class NotAllowed(PlaceholderError):
    """Some `${NAME}` placeholders name variables that actions may not read."""

    def __init__(self, names: list[str]):
        self.names = names
        reserved = [name for name in names if is_reserved(name)]
        unlisted = [name for name in names if not is_reserved(name)]
        reasons = []
        if unlisted:
            reasons.append(
                f"{_listed(unlisted)} not allowed for actions: add the name (or a NAME_* "
                f"prefix) to {SETTING} on the runner to let actions read it"
            )
        if reserved:
            reasons.append(
                f"{_listed(reserved)} never allowed: {RESERVED_PREFIX}* variables are the "
                f"runner's own settings, whatever {SETTING} says"
            )
        super().__init__("; ".join(reasons))


class MissingVariables(PlaceholderError):
    """Some `${NAME}` placeholders name allowed variables that are not set."""

    def __init__(self, names: list[str]):
        self.names = names
        listed = ", ".join(names)
        super().__init__(f"environment variable(s) not set on the runner: {listed}")


def _listed(names: list[str]) -> str:
    shown = ", ".join("${" + name + "}" for name in names)
    return f"{shown} is" if len(names) == 1 else f"{shown} are"


def is_reserved(name: str) -> bool:
    """Whether `name` is one of the runner's own settings (`GANTRY_…`, in any case)."""
    return name.upper().startswith(RESERVED_PREFIX)


def parse_allow_list(text: str) -> tuple[str, ...]:
    """The entries of a `GANTRY_ACTION_ENV` value; raises ValueError naming a bad entry."""
    entries = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if not _ALLOW_ENTRY.match(item):
            raise ValueError(
                f"{item!r} is neither a variable name nor a prefix such as PAGERDUTY_*"
            )
        if item not in entries:
            entries.append(item)
    return tuple(entries)


def names_in(value: Any) -> list[str]:
    """The variable names referenced by a string, list or mapping of strings, in order."""
    found: list[str] = []
    for text in _strings(value):
        for name in _PLACEHOLDER.findall(text):
            if name not in found:
                found.append(name)
    return found


@dataclass(frozen=True)
class Placeholders:
    """Which variables `${NAME}` may expand to (`allowed`, the entries of GANTRY_ACTION_ENV),
    read from `environ` (None: the process environment, read when a run resolves).

    The default allows nothing, so a context built without the runner's settings fails closed.
    """

    allowed: tuple[str, ...] = ()
    environ: Mapping[str, str] | None = None

    def allows(self, name: str) -> bool:
        """Whether actions may read the variable `name`.

        An entry `NAME` allows exactly that name; `PREFIX*` allows every name starting with
        `PREFIX` (so `PAGERDUTY_*` allows `PAGERDUTY_KEY` but not `PAGERDUTYX` or
        `PAGERDUTY`); `*` alone allows every name. `GANTRY_…` names are never allowed.
        """
        if is_reserved(name):
            return False
        for entry in self.allowed:
            if entry.endswith("*"):
                if name.startswith(entry[:-1]):
                    return True
            elif name == entry:
                return True
        return False

    def check(self, values: Iterable[Any]) -> None:
        """Raise `NotAllowed` or `MissingVariables` for the placeholders of all `values`.

        Refusals come first and do not depend on whether a variable is set, so an action
        cannot probe the runner's environment.
        """
        names: list[str] = []
        for value in values:
            names.extend(name for name in names_in(value) if name not in names)
        refused = [name for name in names if not self.allows(name)]
        if refused:
            raise NotAllowed(refused)
        env = self._env()
        missing = [name for name in names if name not in env]
        if missing:
            raise MissingVariables(missing)

    def resolve(self, value: Any, secrets: list[str]) -> Any:
        """`value` with every `${NAME}` replaced; each value used is appended to `secrets`.

        Strings, lists and mappings (values only) are resolved; other values are returned as
        they are. A value taken from the environment is not itself searched for placeholders.
        Raises a `PlaceholderError` before anything is replaced.
        """
        self.check([value])
        return _replace(value, secrets, self._env())

    def resolve_all(self, values: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
        """Several config values resolved together: checked as one before any is replaced."""
        self.check(values.values())
        env = self._env()
        return {key: _replace(value, secrets, env) for key, value in values.items()}

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ


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
