"""Catalog writes across replicas: each replica's clone follows `origin`.

Replicas sharing a PostgreSQL store each work in a clone of the catalog repository whose
`origin` is the shared repository. An API write is committed in the clone, then pushed to
`origin` before it is answered (`push_write`, called by the writer under the workspace
lock): when `origin` moved meanwhile, the write is replayed on top of it (rebase) and pushed
again, a few times at most. When the commits it missed touched the file the write changed,
the write is dropped and answered 409 — the writer checked `If-Match` against a version that
is no longer the latest — and the clone follows `origin`, so of two conflicting writes on two
replicas exactly one succeeds.

A pushed write is announced (`announce`, over the store's `NOTIFY`); the other replicas
fetch, fast-forward and update their index for the files that changed (`pull`). Events for
the change were already relayed by the replica that wrote it, so a pull refreshes without
publishing them again. A replica also pulls once at start.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from runner.errors import StatusError

from .git import GANTRY, GitError

log = logging.getLogger(__name__)

REMOTE = "origin"
MAX_PUSH_ATTEMPTS = 5


class ReplicaConflict(StatusError):
    """Another replica changed the same file first: the write is dropped (409)."""

    status = 409


class ReplicaSync:
    """Pushes this replica's writes to `origin` and pulls the others' (module docstring)."""

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace
        self.repo = workspace.repo
        self.origin = uuid.uuid4().hex
        self._announce: Callable[[str], None] = lambda _text: None
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="gantry-replica-pull",
                                        daemon=True)
        self.branch = self._git("symbolic-ref", "--short", "HEAD", separator=None).stdout.strip()
        self.tracking = f"refs/remotes/{REMOTE}/{self.branch}"

    @staticmethod
    def available(workspace: Any) -> bool:
        """Whether the catalog is in a Git clone with an `origin` to follow."""
        if workspace.repo is None:
            return False
        done = workspace.repo.run("remote", "get-url", operands=(REMOTE,), check=False)
        if done.returncode != 0 or not done.stdout.strip():
            return False
        on_branch = workspace.repo.run("symbolic-ref", "-q", "HEAD", separator=None,
                                       check=False)
        if on_branch.returncode != 0:
            log.warning("the catalog's clone has no branch checked out (detached HEAD): "
                        "writes are not pushed to %s", REMOTE)
            return False
        return True

    def start(self, announce: Callable[[str], None]) -> None:
        """Announce pushed writes with `announce`; pull now and whenever another replica
        announces one (`receive`)."""
        self._announce = announce
        self._wanted.set()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()

    # --- git --------------------------------------------------------------------------------

    def _git(self, *args: str, operands: tuple[str, ...] = (), separator: str | None = "--",
             check: bool = True, env: dict[str, str] | None = None) -> Any:
        return self.repo.run(*args, operands=operands, separator=separator, check=check,
                             env=env)

    def _fetch(self) -> str | None:
        """The commit of `origin`'s branch after fetching it (None: no such branch yet)."""
        self._git("fetch", "--no-tags", "--quiet",
                  operands=(REMOTE, f"+refs/heads/{self.branch}:{self.tracking}"))
        done = self._git("rev-parse", "--verify", "--quiet", operands=(self.tracking,),
                         separator="--end-of-options", check=False)
        return done.stdout.strip() or None

    def _settle(self) -> None:
        """Refresh Git's index stat data: commits made in process write files without it, and
        reset, rebase and merge would take those files for local changes."""
        self._git("update-index", "-q", "--refresh", separator=None, check=False)

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self._git("merge-base", "--is-ancestor", operands=(older, newer),
                         separator=None, check=False).returncode == 0

    def _push(self) -> bool:
        done = self._git("push", "--porcelain", "--quiet",
                         operands=(REMOTE, f"HEAD:refs/heads/{self.branch}"), check=False)
        if done.returncode == 0:
            return True
        text = done.stderr + done.stdout
        if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
            return False
        raise GitError(f"git push failed: {text.strip()}")

    # --- writes -----------------------------------------------------------------------------

    def push_write(self, relpath: str, parent: str | None, commit: str) -> str:
        """Publish the write `commit` (made on `parent`, changing catalog file `relpath`) to
        `origin`; returns the commit as pushed (rebased when `origin` had moved). Called
        with the workspace lock held. Raises ReplicaConflict when another replica changed
        `relpath` first (the write is then dropped and the clone follows `origin`), and a
        503 StatusError when `origin` cannot be reached (the commit stays in the clone)."""
        return self.push_commit([self.workspace.repo_path(relpath)], parent, commit)

    def push_commit(self, paths: list[str], parent: str | None, commit: str) -> str:
        """`push_write` for a commit changing `paths` (repository-relative): a discovery's
        files, or gantry.yaml for the dashboard."""
        try:
            return self._push_commit(paths, parent, commit)
        except GitError as exc:
            log.error("pushing %s to %s failed: %s", commit[:12], REMOTE, exc)
            raise StatusError(f"the write was committed on this runner but could not be pushed "
                              f"to {REMOTE}: {exc}", status=503) from exc

    def _push_commit(self, paths: list[str], parent: str | None, commit: str) -> str:
        for _attempt in range(MAX_PUSH_ATTEMPTS):
            remote = self._fetch()
            if remote is not None and not self._is_ancestor(remote, commit):
                base = parent if parent and self._is_ancestor(parent, remote) else \
                    self._git("merge-base", operands=(commit, remote),
                              separator=None).stdout.strip()
                touched = self.repo.changed_paths(base, remote)
                self._settle()
                clashes = sorted(set(paths) & set(touched))
                if clashes:
                    self._git("reset", "--keep", "--quiet", operands=(remote,), separator=None)
                    self.workspace.take_changes(touched + paths)
                    raise ReplicaConflict(
                        f"{', '.join(clashes)} was changed on another runner meanwhile; "
                        "nothing was written: read it again and retry")
                self._git("rebase", "--quiet", operands=(remote,), separator="--end-of-options",
                          env=GANTRY.committer_env())
                commit = self.repo.head() or commit
                self.workspace.take_changes(touched)
            if self._push():
                self._git("update-ref", operands=(self.tracking, commit))
                self._send(commit)
                return commit
        raise StatusError(f"origin kept moving; the write was committed here but not pushed "
                          f"after {MAX_PUSH_ATTEMPTS} attempts", status=503)

    def _send(self, commit: str) -> None:
        try:
            self._announce(json.dumps({"origin": self.origin, "head": commit}))
        except Exception:  # the others also pull at their next announcement or start
            log.exception("announcing commit %s to the other runners failed", commit[:12])

    # --- pulls ------------------------------------------------------------------------------

    def receive(self, text: str) -> None:
        """Another replica pushed: pull soon (many announcements make one pull)."""
        try:
            if json.loads(text).get("origin") == self.origin:
                return
        except ValueError:
            return
        self._wanted.set()

    def pull(self) -> list[str]:
        """Bring `origin`'s commits into the clone and the index; the files that changed."""
        with self.workspace.lock:
            before = self.repo.head()
            remote = self._fetch()
            if remote is None or before is None or self._is_ancestor(remote, before):
                return []
            self._settle()
            if self._is_ancestor(before, remote):
                self._git("merge", "--ff-only", "--quiet", operands=(remote,),
                          separator="--end-of-options")
            else:
                done = self._git("rebase", "--quiet", operands=(remote,),
                                 separator="--end-of-options", check=False,
                                 env=GANTRY.committer_env())
                if done.returncode != 0:
                    self._git("rebase", "--abort", check=False)
                    log.error("this runner's commits conflict with %s/%s; pull with the "
                              "gitops plugin to keep them on a side branch", REMOTE,
                              self.branch)
                    return []
            touched = self.repo.changed_paths(before, self.repo.head() or remote)
            return self.workspace.take_changes(touched)

    def _follow(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if self._stop.is_set():
                return
            try:
                changed = self.pull()
                if changed:
                    log.info("pulled %d changed catalog file(s) from %s", len(changed), REMOTE)
            except Exception:
                log.exception("pulling from %s failed; retrying at the next announcement",
                              REMOTE)
