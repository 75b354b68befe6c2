"""Entity names from a request: refused (422) when longer than the schema allows.

Names and namespaces become file and directory names in the catalog, so a name beyond
the schema's limit must be refused before any file-system call sees it (an over-long
path component fails there with "File name too long"). `checked_names` applies the rule
to a route's `<name>` path parameter, its `namespace` query parameter and, for writes,
the body's `metadata.name` and `metadata.namespace`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request

from generator.resources import schemas_dir

from .errors import ApiError, json_body

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_MAX_LENGTH = 63


@functools.cache
def max_name_length() -> int:
    """The longest name the envelope schema allows (`$defs.name.maxLength`)."""
    try:
        envelope = json.loads((schemas_dir() / "envelope.json").read_text(encoding="utf-8"))
        return int(envelope["$defs"]["name"]["maxLength"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MAX_LENGTH


def check_name(value: Any, field: str) -> None:
    """422 when `value` is a string longer than an entity name may be."""
    limit = max_name_length()
    if isinstance(value, str) and len(value) > limit:
        raise ApiError(422, f"{field} is {len(value)} characters long; entity names and "
                            f"namespaces are at most {limit} characters")


def check_request_names(path_params: dict[str, Any]) -> None:
    """Apply `check_name` to everything in this request that names an entity."""
    check_name(path_params.get("name"), "name")
    check_name(request.args.get("namespace"), "namespace")
    if request.method in ("POST", "PUT"):
        metadata = json_body(required=False).get("metadata")
        if isinstance(metadata, dict):
            for key in ("name", "namespace"):
                check_name(metadata.get(key), f"metadata.{key}")


def checked_names(view: F) -> F:
    """Decorate a view (below `require_role`): over-long entity names answer 422 first."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_request_names(kwargs)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
