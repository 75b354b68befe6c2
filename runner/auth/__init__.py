"""Authentication and authorisation of the runner's callers.

`require_role(role)` decorates views; `current_user()` gives the caller; `client_ip()`
the caller's address. Roles: viewer < developer < platform-engineer < admin.
"""

from . import roles, write_policy
from .request import (
    SESSION_COOKIE,
    User,
    authenticate,
    check_same_origin,
    client_ip,
    current_user,
    require_role,
)
from .roles import ROLES

__all__ = [
    "ROLES",
    "SESSION_COOKIE",
    "User",
    "authenticate",
    "check_same_origin",
    "client_ip",
    "current_user",
    "require_role",
    "roles",
    "write_policy",
]
