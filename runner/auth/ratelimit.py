"""Failed-login limiting: about 5 failures per user name and address in 5 minutes.

Only failures count; a success clears the counter. The failures are kept in the store
(`runner.store.login_failures`), so the limit holds for the whole runner however many
workers and replicas answer its logins, and survives a restart.
"""

from __future__ import annotations

import math
import time

from ..store import login_failures
from ..store.db import Store

MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


class LoginLimiter:
    def __init__(self, store: Store, max_failures: int = MAX_FAILURES,
                 window: float = WINDOW_SECONDS) -> None:
        self.store = store
        self.max_failures = max_failures
        self.window = window

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before trying again, 0 when an attempt is allowed."""
        now = time.time()
        stamps = login_failures.since(self.store, username.lower(), address, now - self.window)
        if len(stamps) < self.max_failures:
            return 0
        return max(1, math.ceil(stamps[-self.max_failures] + self.window - now))

    def failed(self, username: str, address: str) -> None:
        now = time.time()
        login_failures.record(self.store, username.lower(), address, now,
                              forget_before=now - self.window)

    def succeeded(self, username: str, address: str) -> None:
        login_failures.clear(self.store, username.lower(), address)
