"""The GitOps loop inside the runner: status, history, and queued push and pull operations.

Operations run one at a time on a worker thread (the API answers 202 at once) and hold the
workspace's write lock while they touch the branch, so they never interleave with entity
writes. After a pull the index and site are refreshed for exactly the files that changed,
which also publishes the `entity.*` events.

Divergence: the runner's own commits are replayed onto the remote (rebase). When that
conflicts, the rebase is aborted, the runner's commits are kept on a side branch
`gantry/conflict-<time>` (pushed to the remote as well, ready for a pull request), and the
runner's branch follows the remote again: the repository stays the truth and nothing is lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from runner.catalog.git import GANTRY
from runner.catalog.git_args import UnsafeGitValue, safe_ref_name, safe_remote_url
from runner.errors import StatusError
from runner.store import settings as rows
from runner.store.db import now_iso

from .files import entity_files
from .repo import GitOpsError, GitOpsRepo, current_branch, origin_url

log = logging.getLogger(__name__)
PLUGIN = "gitops"
MAX_PUSH_ATTEMPTS = 3
CONNECTED_CACHE_SECONDS = 30.0
OPERATIONS = ("push", "pull")


class GitOpsUnavailable(StatusError):
    """GitOps cannot work here (disabled, no Git repository, no remote)."""

    def __init__(self, status: int, message: str):
        super().__init__(message, status=status)


class UnsafeSettings(GitOpsUnavailable):
    """The remote URL or branch may not be given to `git` (stored before checks existed, or
    an `origin` set by hand); nothing ran."""

    def __init__(self, problem: UnsafeGitValue):
        super().__init__(409, f"the gitops plugin is not usable: {problem}; fix it with "
                         "PUT /api/v1/plugins/gitops/config")


class Conflict(Exception):
    """A rebase of the runner's commits onto the remote conflicted; already handled."""


class GitOpsService:
    def __init__(self, settings: Any, store: Any, workspace: Any):
        self.settings = settings
        self.store = store
        self.workspace = workspace
        self._queue: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._queued: set[str] = set()
        self._queue_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self.running: str | None = None
        self._connected: tuple[float, str, bool] | None = None
        self._last_head: str | None = None

    # --- configuration -------------------------------------------------------------------
    def _work_tree(self) -> Any:
        root = getattr(self.workspace, "repo_root", None)
        if self.workspace is None or root is None:
            reason = getattr(self.workspace, "read_only_reason", "") or "no catalog workspace"
            raise GitOpsUnavailable(409, f"GitOps needs the catalog in a Git repository: {reason}")
        return root

    def remote_settings(self) -> tuple[str, str]:
        """(remote URL, branch): the configured ones, else `origin` and the current branch.

        Both are checked again here, whatever their source: a value stored before the
        settings were checked, or an `origin` someone configured by hand, never reaches
        `git` unless it is a safe remote URL and branch name (409 otherwise).
        """
        config = self.settings.config(PLUGIN)
        work_tree = self._work_tree()
        remote = config.get("repoUrl") or origin_url(work_tree)
        branch = config.get("branch") or current_branch(work_tree) or "main"
        try:
            if remote:
                safe_remote_url(remote, "repoUrl" if config.get("repoUrl") else "origin")
            safe_ref_name(branch, "branch")
        except UnsafeGitValue as exc:
            raise UnsafeSettings(exc) from exc
        return remote, branch

    def missing_remote(self) -> list[str]:
        """What enabling still needs: a remote, from `repoUrl` or the repository's origin."""
        try:
            remote, _branch = self.remote_settings()
        except UnsafeSettings as exc:
            return [exc.message]
        except GitOpsUnavailable as exc:
            return [f"a Git repository around the catalog ({exc.message})"]
        return [] if remote else ["repoUrl (the repository has no origin remote)"]

    def repo(self) -> GitOpsRepo:
        work_tree = self._work_tree()
        remote, branch = self.remote_settings()
        if not remote:
            raise GitOpsUnavailable(409, "no remote: set repoUrl or add an origin remote")
        config = self.settings.config(PLUGIN)
        try:
            return GitOpsRepo(work_tree, self.workspace.catalog_root, remote, branch,
                              config.get("authToken") or "",
                              origin_refs=not config.get("repoUrl"))
        except UnsafeGitValue as exc:
            raise UnsafeSettings(exc) from exc

    def _require_enabled(self) -> None:
        if not self.settings.enabled(PLUGIN):
            raise GitOpsUnavailable(409, "the gitops plugin is disabled; enable it with "
                                    "PUT /api/v1/plugins/gitops/enable")

    # --- views ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        self._require_enabled()
        state = rows.get_state(self.store, PLUGIN)
        repo = self.repo()
        head = repo.head()
        return {
            "connected": self._is_connected(repo),
            "repoUrl": _public_url(repo.remote_url),
            "branch": repo.branch,
            "lastCommit": head or "",
            "lastCommitAt": _utc(repo.commit_time(head)) if head else None,
            "lastPushAt": state.get("lastPushAt"),
            "lastPullAt": state.get("lastPullAt"),
            "lastError": state.get("lastError", ""),
            "pendingFiles": len(repo.pending_files()),
            "running": self.running,
        }

    def _is_connected(self, repo: GitOpsRepo) -> bool:
        now = time.monotonic()
        cached = self._connected
        if cached and cached[1] == repo.remote_url and now - cached[0] < CONNECTED_CACHE_SECONDS:
            return cached[2]
        connected = repo.ls_remote()
        self._connected = (now, repo.remote_url, connected)
        return connected

    def history(self) -> list[dict[str, Any]]:
        self._require_enabled()
        return rows.gitops_history(self.store)

    def files(self) -> list[dict[str, str]]:
        self._require_enabled()
        tracked = self.repo().tracked_files()
        return [row for row in entity_files(self.workspace) if row["path"] in tracked]

    # --- queue ---------------------------------------------------------------------------
    def submit(self, operation: str, user: str | None) -> bool:
        """Queue an operation; False when the same one is already waiting."""
        self._require_enabled()
        self.repo()
        with self._queue_lock:
            if operation in self._queued:
                return False
            self._queued.add(operation)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="gantry-gitops",
                                                daemon=True)
                self._worker.start()
        self._queue.put((operation, user))
        return True

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                operation, user = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            with self._queue_lock:
                self._queued.discard(operation)
            self.running = operation
            try:
                self.run(operation, user)
            except Exception:  # recorded in history; the worker must survive
                log.exception("gitops %s failed", operation)
            finally:
                self.running = None

    def close(self) -> None:
        self._stop.set()

    def autopush_tick(self) -> None:
        """Queue a push when autoPush is on and the branch moved since the last look."""
        try:
            if not self.settings.enabled(PLUGIN) or \
                    not self.settings.config(PLUGIN).get("autoPush"):
                return
            head = self.repo().head()
        except Exception:
            return
        if head and head != self._last_head:
            self._last_head = head
            self.submit("push", None)

    # --- operations ----------------------------------------------------------------------
    def run(self, operation: str, user: str | None) -> dict[str, Any]:
        """Run a push or pull now (on the caller's thread) and record it."""
        try:
            repo = self.repo()
        except GitOpsUnavailable as exc:
            return self._record(operation, "failed", user, None, None, [], exc.message,
                                error=exc.message)
        before = repo.head()
        changed: list[str] = []
        try:
            with self.workspace.lock:
                if operation == "pull":
                    changed, message = self._pull(repo)
                else:
                    changed, message = self._push(repo)
        except Conflict as exc:
            return self._record(operation, "conflict", user, before, repo.head(), changed,
                                str(exc), error=str(exc))
        except GitOpsError as exc:
            return self._record(operation, "failed", user, before, repo.head(), changed,
                                str(exc), error=str(exc))
        return self._record(operation, "succeeded", user, before, repo.head(), changed, message)

    def _record(self, operation: str, status: str, user: str | None, before: str | None,
                after: str | None, files: list[str], message: str,
                error: str = "") -> dict[str, Any]:
        rows.add_gitops_history(self.store, operation=operation, status=status,
                                triggered_by=user, commit_before=before, commit_after=after,
                                files=files, message=message)
        stamp = {"lastPullAt" if operation == "pull" else "lastPushAt": now_iso()}
        if status == "succeeded":
            rows.set_state(self.store, PLUGIN, lastError="", **stamp)
        else:
            rows.set_state(self.store, PLUGIN, lastError=f"{operation}: {error}",
                           lastErrorAt=now_iso())
        self._last_head = after
        return {"operation": operation, "status": status, "message": message, "files": files}

    def _refresh(self, paths: list[str]) -> None:
        if paths:
            self.workspace.refresh(paths)

    def _integrate(self, repo: GitOpsRepo, remote: str) -> list[str]:
        """Bring the remote's commits under the runner's branch; the catalog files changed."""
        before = repo.head()
        if before is None or repo.is_ancestor(remote, before):
            return []
        if repo.is_ancestor(before, remote):
            repo.fast_forward(remote, before)
        else:
            outcome = repo.rebase(remote, GANTRY, before)
            if not outcome.ok:
                self._keep_on_side_branch(repo, before, remote, outcome.conflicts)
        changed = repo.changed_files(before, repo.head())
        self._refresh(changed)
        return changed

    def _keep_on_side_branch(self, repo: GitOpsRepo, local: str, remote: str,
                             conflicts: list[str]) -> None:
        side = "gantry/conflict-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        repo.create_branch(side, local)
        try:
            pushed = repo.push(local, side)
        except GitOpsError:
            pushed = False
        repo.reset_to(remote, local)
        self._refresh(repo.changed_files(local, remote))
        where = f"branch {side}" + (" (pushed to the remote)" if pushed else " (local only)")
        files = ", ".join(repo.catalog_relative(f) for f in conflicts)
        raise Conflict(f"the runner's commits conflict with the remote in {files}; they are "
                       f"kept on {where} and {repo.branch} now follows the remote — merge "
                       f"{side} by hand")

    def _pull(self, repo: GitOpsRepo) -> tuple[list[str], str]:
        remote = repo.fetch()
        if remote is None:
            return [], f"the remote has no branch {repo.branch} yet; nothing to pull"
        changed = self._integrate(repo, remote)
        if not changed:
            return [], "already up to date"
        return changed, f"pulled {len(changed)} changed file(s)"

    def _push(self, repo: GitOpsRepo) -> tuple[list[str], str]:
        changed: list[str] = []
        for _attempt in range(MAX_PUSH_ATTEMPTS):
            remote = repo.fetch()
            if remote is not None:
                changed += self._integrate(repo, remote)
            head = repo.head()
            if head is None:
                return changed, "nothing to push: the repository has no commits"
            if remote == head or (remote is not None and repo.is_ancestor(head, remote)):
                return changed, "nothing to push"
            pushed_files = repo.changed_files(remote, head) if remote else []
            if repo.push():
                note = f"pushed {head[:12]}"
                if pushed_files:
                    note += f" ({len(pushed_files)} file(s))"
                if changed:
                    note += f" after integrating {len(changed)} remote file change(s)"
                return sorted(set(changed + pushed_files)), note
        raise GitOpsError(f"the remote kept moving; push refused {MAX_PUSH_ATTEMPTS} times")


def _public_url(url: str) -> str:
    """The remote URL without any credentials embedded in it."""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url


def _utc(stamp: str | None) -> str | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
