"""The one base of every error that knows which HTTP status it answers.

Services below the API (the catalog writer, plugins, accounts, the action engine) raise a
`StatusError` with a message a user can act on; `runner.api.errors.register` turns every one
of them into `{"error": message, **extra}` with its status, once, for every blueprint. This
module imports nothing from Flask, so services and executors stay free of HTTP handling.
"""

from __future__ import annotations

from typing import Any


class StatusError(Exception):
    """An error with an HTTP status (`status`, class default or per instance) and a message.

    `extra` is added to the JSON body (for example `rule`, `problems`, `referrers`);
    `headers` to the response (for example `Retry-After`).
    """

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"error": self.message, **self.extra}
