"""A small GitHub REST client for workflow dispatches and runs, with rate limits honoured.

Reads (listing and getting workflow runs) are retried: after a rate limit (403/429 with
`retry-after`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`) when GitHub asks for a
short wait, and after network errors and 5xx answers with a short backoff. A wait longer than
`max_sleep` is not slept in the caller's thread: `RateLimited.retry_in` tells the caller
(the executor turns it into a `Wait` step).

The dispatch is a write that GitHub does not deduplicate, so it is only sent again when
GitHub definitely refused it (401 with a renewable App token, a rate limit, or a connection
that was never established). When the answer is lost — a timeout after sending, a dropped
connection, a 5xx from a gateway — `DispatchLost` is raised and the caller looks for the
run instead of dispatching twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from .auth import API_HEADERS, Auth, auth_for
from .errors import GitHubError, GitHubUnavailable, error_from, rate_limit_wait
from .settings import GitHubSettings

# httpx logs each request line at INFO; keep request details out of the runner's log.
logging.getLogger("httpx").setLevel(logging.WARNING)

TIMEOUT = 10.0
READ_ATTEMPTS = 4
BACKOFF = (0.5, 1.0, 2.0)
MAX_SLEEP = 5.0
"""Longest rate-limit wait slept inside one call; longer waits are left to the caller."""

_shared_lock = threading.Lock()
_shared_http: httpx.Client | None = None


def shared_http() -> httpx.Client:
    """One connection pool for every GitHub call of the process (redirects not followed)."""
    global _shared_http
    with _shared_lock:
        if _shared_http is None:
            _shared_http = httpx.Client(follow_redirects=False, timeout=TIMEOUT)
        return _shared_http


class DispatchLost(GitHubError):
    """The dispatch may have been accepted, but its answer was lost."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(status, message)


@dataclass(frozen=True)
class Dispatched:
    """What the dispatch answered: the run when GitHub returned its details, else None."""

    run_id: int | None = None
    run_url: str = ""
    html_url: str = ""
    details_refused: bool = False


class GitHubClient:
    """GitHub's REST API at `settings.api_url` (`https://ghe.example/api/v3` for GHE)."""

    def __init__(self, settings: GitHubSettings, *, http: httpx.Client | None = None,
                 on_secret: Callable[[str], None] = lambda _s: None, timeout: float = TIMEOUT,
                 max_sleep: float = MAX_SLEEP, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.http = http or shared_http()
        self.auth: Auth = auth_for(settings, self.http, on_secret)
        self.timeout = timeout
        self.max_sleep = max_sleep
        self.sleep = sleep

    # -- workflow API ------------------------------------------------------------------------

    def dispatch(self, owner: str, repo: str, workflow: str, ref: str,
                 inputs: dict[str, str]) -> Dispatched:
        """Create a `workflow_dispatch` event, asking for the new run's details.

        A server that does not know `return_run_details` (GitHub Enterprise Server) refuses
        the key with 422 before doing anything, so the request is sent again without it.
        """
        path = f"{_repo_path(owner, repo)}/actions/workflows/{quote(str(workflow), safe='')}"
        body: dict[str, Any] = {"ref": ref, "inputs": inputs, "return_run_details": True}
        try:
            response = self._request("POST", f"{path}/dispatches", json=body, read=False)
        except GitHubError as exc:
            if exc.status != 422 or "return_run_details" not in exc.message:
                raise
            del body["return_run_details"]
            self._request("POST", f"{path}/dispatches", json=body, read=False)
            return Dispatched(details_refused=True)
        if response.status_code == 200 and response.content:
            try:
                details = response.json()
                return Dispatched(run_id=int(details["workflow_run_id"]),
                                  run_url=str(details.get("run_url") or ""),
                                  html_url=str(details.get("html_url") or ""))
            except (ValueError, KeyError, TypeError):
                pass
        return Dispatched()

    def workflow_runs(self, owner: str, repo: str, workflow: str, *, branch: str,
                      created_since: float, per_page: int = 30) -> list[dict[str, Any]]:
        """The workflow's `workflow_dispatch` runs on `branch` created since a moment."""
        since = datetime.fromtimestamp(created_since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        path = (f"{_repo_path(owner, repo)}/actions/workflows/"
                f"{quote(str(workflow), safe='')}/runs")
        params = {"event": "workflow_dispatch", "branch": branch, "created": f">={since}",
                  "per_page": str(per_page)}
        body = self._request("GET", path, params=params).json()
        runs = body.get("workflow_runs") if isinstance(body, dict) else None
        return [run for run in runs or [] if isinstance(run, dict)]

    def run(self, owner: str, repo: str, run_id: int) -> dict[str, Any]:
        """One workflow run (`status`, `conclusion`, `html_url`, ...)."""
        body = self._request("GET", f"{_repo_path(owner, repo)}/actions/runs/{int(run_id)}").json()
        if not isinstance(body, dict):
            raise GitHubError(200, "GitHub answered the run request with something else "
                              "than a workflow run")
        return body

    # -- transport ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, json: Any = None,
                 params: dict[str, str] | None = None, read: bool = True) -> httpx.Response:
        url = f"{self.settings.api_url}{path}"
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= READ_ATTEMPTS
            headers = {**API_HEADERS, "Authorization": self.auth.header()}
            try:
                response = self.http.request(method, url, headers=headers, json=json,
                                             params=params, timeout=self.timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if read and not last:  # nothing reached GitHub: safe to send again
                    self.sleep(BACKOFF[attempt - 1])
                    continue
                raise GitHubUnavailable(f"cannot reach GitHub ({type(exc).__name__})") from exc
            except httpx.HTTPError as exc:
                if not read:
                    raise DispatchLost("the answer to the dispatch was lost "
                                       f"({type(exc).__name__})") from exc
                if not last:
                    self.sleep(BACKOFF[attempt - 1])
                    continue
                raise GitHubUnavailable(f"GitHub did not answer ({type(exc).__name__})") from exc
            status = response.status_code
            if status < 300:
                return response
            if status == 401 and not renewed and self.auth.invalidate():
                renewed = True  # an installation token revoked early: get a new one
                continue
            wait = rate_limit_wait(response)
            if wait is not None:
                if wait <= self.max_sleep and not last:
                    self.sleep(wait)
                    continue
                raise error_from(response)
            if status >= 500:
                if not read:
                    raise DispatchLost(f"GitHub answered the dispatch with HTTP {status}; "
                                       "it may or may not have been accepted", status)
                if not last:
                    self.sleep(BACKOFF[attempt - 1])
                    continue
                raise GitHubUnavailable(f"GitHub answered HTTP {status} {attempt} times",
                                        status)
            raise error_from(response)


def _repo_path(owner: str, repo: str) -> str:
    """`/repos/{owner}/{repo}`, encoded; a dot segment would let the path climb elsewhere."""
    if {owner, repo} & {"", ".", ".."}:
        raise GitHubError(0, f"not a GitHub repository: {owner!r}/{repo!r}")
    return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
