"""Failed-login limiting: about 5 failures per user name and address in 5 minutes.

Only failures count; a success clears the counter. The counter is in memory, which is
exact because the runner is one process (a restart forgets it, which is acceptable).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


class LoginLimiter:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            stamps = self._failures[key] = deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before trying again, 0 when an attempt is allowed."""
        key = (username.lower(), address)
        now = time.monotonic()
        with self._lock:
            stamps = self._recent(key, now)
            if len(stamps) < self.max_failures:
                return 0
            return max(1, math.ceil(stamps[0] + self.window - now))

    def failed(self, username: str, address: str) -> None:
        key = (username.lower(), address)
        now = time.monotonic()
        with self._lock:
            self._recent(key, now).append(now)
            if len(self._failures) > 10_000:
                self._failures = {k: v for k, v in self._failures.items() if v}

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)
