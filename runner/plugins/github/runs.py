"""Which workflow run a dispatch created, when GitHub did not answer with its id.

GitHub Enterprise Server (and github.com before `return_run_details`) answers a dispatch with
204 and no run id. The new run is then found by listing the workflow's `workflow_dispatch`
runs on the ref created since the dispatch (less `CLOCK_SKEW`, as GitHub's clock and ours
differ and `created_at` has whole seconds) and taking the oldest that no other Gantry run has
claimed. Claims are kept per process and rebuilt from each run's state when runs resume.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

CLOCK_SKEW = 5.0
CLAIM_MEMORY = 24 * 3600.0
"""Claims are forgotten a day after they were made (runs are never dispatched that long)."""


def created_at(run: dict[str, Any]) -> float | None:
    """A run's `created_at` as a POSIX timestamp, None when missing or malformed."""
    value = run.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def candidates(runs: list[dict[str, Any]], *, ref: str, since: float) -> list[dict[str, Any]]:
    """Dispatched runs on `ref` created since `since` (less the skew), oldest first."""
    found = []
    for run in runs:
        created = created_at(run)
        if (run.get("event") == "workflow_dispatch" and run.get("head_branch") == ref
                and isinstance(run.get("id"), int) and created is not None
                and created >= since - CLOCK_SKEW):
            found.append((created, run["id"], run))
    return [run for _created, _id, run in sorted(found, key=lambda item: item[:2])]


class Claims:
    """Which Gantry run follows which GitHub run, so two dispatches never take the same one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[tuple[str, int], tuple[str, float]] = {}

    def claim(self, scope: str, github_run_id: int, run_id: str) -> bool:
        """Take a GitHub run for a Gantry run; False when another Gantry run has it."""
        with self._lock:
            self._forget_old()
            owner = self._owners.get((scope, github_run_id))
            if owner is not None and owner[0] != run_id:
                return False
            self._owners[(scope, github_run_id)] = (run_id, time.time())
            return True

    def claim_first(self, scope: str, runs: list[dict[str, Any]],
                    run_id: str) -> dict[str, Any] | None:
        """Claim the first of `runs` that is free (or already ours); None when all are taken."""
        with self._lock:
            self._forget_old()
            for run in runs:
                owner = self._owners.get((scope, run["id"]))
                if owner is None or owner[0] == run_id:
                    self._owners[(scope, run["id"])] = (run_id, time.time())
                    return run
            return None

    def owner(self, scope: str, github_run_id: int) -> str | None:
        with self._lock:
            owner = self._owners.get((scope, github_run_id))
            return owner[0] if owner else None

    def _forget_old(self) -> None:
        cutoff = time.time() - CLAIM_MEMORY
        for key in [key for key, (_run, at) in self._owners.items() if at < cutoff]:
            del self._owners[key]


CLAIMS = Claims()
"""The claims of this runner process."""
