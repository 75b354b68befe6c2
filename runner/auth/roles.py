"""The four roles, lowest to highest, and their ordering."""

from __future__ import annotations

ROLES = ("viewer", "developer", "platform-engineer", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def is_role(value: object) -> bool:
    return isinstance(value, str) and value in _RANK


def at_least(have: str, need: str) -> bool:
    """Whether role `have` grants everything role `need` grants."""
    if need not in _RANK:
        raise ValueError(f"unknown role {need!r}; roles are {', '.join(ROLES)}")
    return _RANK.get(have, -1) >= _RANK[need]


def lower_of(a: str, b: str) -> str:
    """The lesser of two roles (an API key never acts above its creator)."""
    return a if _RANK.get(a, -1) <= _RANK.get(b, -1) else b
