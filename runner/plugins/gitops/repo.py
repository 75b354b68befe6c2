"""Git operations of the GitOps loop, on the repository holding the runner's catalog.

The remote is given by URL on every command (`repoUrl`, or the repository's `origin`), and
fetched into `refs/remotes/gantry/<branch>`, so nothing is ever written into `.git/config`.
An `authToken` for an HTTPS remote travels as an `http.extraHeader` through `GIT_CONFIG_*`
environment variables of that one command: never on a command line, in a file or a log.

The remote URL and the branch are checked (`runner.catalog.git_args`) when a `GitOpsRepo`
is built, whatever their source (settings, `origin`), and every command goes through the
one Git runner (`runner.catalog.git.CatalogRepo.run`), which passes them after `--` and
allows only the https, http, ssh, git and file transports. Every command that moves the
branch (fast-forward, rebase, reset) is given the HEAD it was decided on and refuses when
HEAD moved meanwhile (a commit made at a terminal is never thrown away).
"""

from __future__ import annotations

import base64
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runner.catalog.git import GANTRY, CatalogRepo, GitError, HeadMoved, Identity
from runner.catalog.git_args import (
    GitRunError,
    run_git,
    safe_path,
    safe_ref_name,
    safe_remote_url,
)
from runner.errors import StatusError

GIT_TIMEOUT_SECONDS = 120
_USERINFO = re.compile(r"://[^/@\s]+@")
PROBE_TIMEOUT_SECONDS = 15
TRACKING_PREFIX = "refs/remotes/gantry/"
_FIXED_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true",
              **GANTRY.committer_env()}


class GitOpsError(StatusError):
    """A Git operation failed; the message is safe to show (secrets removed)."""

    status = 502


@dataclass
class RebaseOutcome:
    ok: bool
    conflicts: list[str]


class GitOpsRepo:
    """The work tree around the catalog, its remote and branch."""

    def __init__(self, work_tree: Path, catalog_root: Path, remote_url: str, branch: str,
                 auth_token: str = "", origin_refs: bool = False):
        """Raises `UnsafeGitValue` when the remote URL or the branch may not reach `git`."""
        self.work_tree = Path(work_tree)
        self._repo = CatalogRepo(self.work_tree)
        self.catalog_prefix = Path(catalog_root).resolve().relative_to(
            self.work_tree.resolve()).as_posix()
        if self.catalog_prefix != ".":
            safe_path(self.catalog_prefix, "catalog folder")
        self.remote_url = safe_remote_url(remote_url, "repoUrl")
        self.branch = safe_ref_name(branch, "branch")
        self._token = auth_token
        self._origin_refs = origin_refs

    @property
    def tracking_ref(self) -> str:
        return TRACKING_PREFIX + self.branch

    # --- plumbing ------------------------------------------------------------------------
    def _config(self, remote: bool) -> dict[str, str]:
        if remote and self._token and self.remote_url.lower().startswith(("http://", "https://")):
            basic = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            return {"http.extraHeader": f"Authorization: Basic {basic}"}
        return {}

    def _clean(self, text: str) -> str:
        text = _USERINFO.sub("://***@", text)
        if self._token:
            text = text.replace(self._token, "***")
            text = text.replace(base64.b64encode(f"x-access-token:{self._token}".encode())
                                .decode(), "***")
        return text.strip()

    def git(self, *args: str, operands: tuple[str, ...] = (), separator: str | None = "--",
            check: bool = True, remote: bool = False, env: dict[str, str] | None = None,
            timeout: float = GIT_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
        """Run git in the work tree; `operands` (URLs, refspecs, revisions, paths) go after
        `separator` (see `runner.catalog.git_args.run_git`)."""
        try:
            done = self._repo.run(*args, operands=operands, separator=separator,
                                  env={**_FIXED_ENV, **(env or {})},
                                  config=self._config(remote), timeout=timeout, check=False)
        except GitError as exc:
            raise GitOpsError(self._clean(str(exc))) from exc
        if check and done.returncode != 0:
            raise GitOpsError(f"git {args[0]} failed: {self._clean(done.stderr or done.stdout)}")
        return done

    # --- reading -------------------------------------------------------------------------
    def head(self) -> str | None:
        done = self.git("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return done.stdout.strip() or None

    def commit_time(self, rev: str) -> str | None:
        done = self.git("show", "-s", "--format=%cI", operands=(rev,),
                        separator="--end-of-options", check=False)
        return done.stdout.strip() or None

    def tracking(self) -> str | None:
        """The remote branch as last fetched (or as the clone's origin ref knows it)."""
        refs = [self.tracking_ref]
        if self._origin_refs:
            refs.append(f"refs/remotes/origin/{self.branch}")
        for ref in refs:
            done = self.git("rev-parse", "--verify", "-q", operands=(ref,),
                            separator="--end-of-options", check=False)
            if done.stdout.strip():
                return done.stdout.strip()
        return None

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.git("merge-base", "--is-ancestor", operands=(older, newer),
                        check=False).returncode == 0

    def changed_files(self, old: str | None, new: str | None) -> list[str]:
        """Catalog-relative paths that differ between two commits (under the catalog only)."""
        if not old or not new or old == new:
            return []
        out = self.git("diff", "--name-only", "--no-renames", "--end-of-options", old, new,
                       operands=(self.catalog_prefix,)).stdout
        return [self.catalog_relative(line) for line in out.splitlines() if line]

    def catalog_relative(self, path: str) -> str:
        prefix = self.catalog_prefix
        return path[len(prefix) + 1:] if prefix not in ("", ".") else path

    def tracked_files(self) -> set[str]:
        """Catalog-relative paths of the files Git tracks under the catalog."""
        out = self.git("ls-files", "-z", operands=(self.catalog_prefix,)).stdout
        return {self.catalog_relative(p) for p in out.split("\0") if p}

    def pending_files(self) -> list[str]:
        """Catalog files changed by local commits the remote does not have yet."""
        remote, head = self.tracking(), self.head()
        if not remote or not head:
            return []
        base = self.git("merge-base", operands=(remote, head), check=False).stdout.strip()
        return self.changed_files(base or remote, head)

    def ls_remote(self) -> bool:
        """Whether the remote answers (the branch may not exist yet)."""
        try:
            return self.git("ls-remote", "--heads", operands=(self.remote_url, self.branch),
                            check=False, remote=True,
                            timeout=PROBE_TIMEOUT_SECONDS).returncode == 0
        except GitOpsError:
            return False

    # --- remote operations ---------------------------------------------------------------
    def fetch(self) -> str | None:
        """Fetch the branch into the tracking ref; its commit, or None when it does not exist."""
        listed = self.git("ls-remote", "--heads", operands=(self.remote_url, self.branch),
                          remote=True)
        if not listed.stdout.strip():
            return None
        self.git("fetch", "--no-tags", "--quiet",
                 operands=(self.remote_url, f"+refs/heads/{self.branch}:{self.tracking_ref}"),
                 remote=True)
        return self.tracking()

    def push(self, rev: str = "HEAD", branch: str | None = None) -> bool:
        """Push without force; False when the remote refused because it moved on."""
        target = safe_ref_name(branch or self.branch, "branch")
        done = self.git("push", "--porcelain", "--quiet",
                        operands=(self.remote_url, f"{rev}:refs/heads/{target}"), check=False,
                        remote=True)
        if done.returncode == 0:
            if target == self.branch:
                commit = self.git("rev-parse", "--verify", operands=(rev,),
                                  separator="--end-of-options").stdout.strip()
                self.git("update-ref", operands=(self.tracking_ref, commit))
            return True
        text = done.stderr + done.stdout
        if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
            return False
        raise GitOpsError(f"git push failed: {self._clean(text)}")

    # --- local history -------------------------------------------------------------------
    def _require_head(self, expected_head: str | None) -> None:
        """GitOpsError unless HEAD is still the commit the move was decided on."""
        try:
            self._repo.require_head(expected_head)
        except HeadMoved as exc:
            raise GitOpsError(f"{exc} (a commit was made meanwhile)") from exc

    def fast_forward(self, rev: str, expected_head: str | None) -> None:
        """Move the branch forward to `rev`, if HEAD is still `expected_head`."""
        self._require_head(expected_head)
        self.git("merge", "--ff-only", "--quiet", operands=(rev,), separator="--end-of-options")

    def rebase(self, onto: str, committer: Identity, expected_head: str | None
               ) -> RebaseOutcome:
        """Replay local commits onto `onto`, if HEAD is still `expected_head`; on a
        conflict abort and name the files."""
        self._require_head(expected_head)
        done = self.git("rebase", "--quiet", operands=(onto,), separator="--end-of-options",
                        check=False, env=committer.committer_env())
        if done.returncode == 0:
            return RebaseOutcome(True, [])
        conflicts = self.git("diff", "--name-only", "--diff-filter=U", check=False
                             ).stdout.split()
        self.git("rebase", "--abort", check=False)
        if not conflicts:
            raise GitOpsError(f"git rebase failed: {self._clean(done.stderr or done.stdout)}")
        return RebaseOutcome(False, conflicts)

    def create_branch(self, name: str, rev: str) -> None:
        self.git("branch", "--force", operands=(safe_ref_name(name, "branch"), rev))

    def reset_to(self, rev: str, expected_head: str | None) -> None:
        """Move the current branch to `rev`, if HEAD is still `expected_head`, keeping
        uncommitted changes (refuses to lose them)."""
        self._require_head(expected_head)
        self.git("reset", "--keep", "--quiet", operands=(rev,), separator=None)


def origin_url(work_tree: Path) -> str:
    """The URL of the repository's `origin` remote ('' when there is none)."""
    try:
        done = run_git(work_tree, "remote", "get-url", "origin", timeout=30)
    except GitRunError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def current_branch(work_tree: Path) -> str:
    try:
        done = run_git(work_tree, "symbolic-ref", "--quiet", "--short", "HEAD", timeout=30)
    except GitRunError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
