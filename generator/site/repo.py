"""Where the catalog's files live in their Git repository, for "view the file" links.

The web address comes from `repoUrl` in gantry.yaml when set, otherwise from the `origin`
remote (an SSH remote `git@host:owner/name.git` becomes `https://host/owner/name`).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .urls import safe_url


@dataclass(frozen=True, slots=True)
class RepoInfo:
    """The repository's web URL (or None), the branch, and the catalog's folder inside it."""

    web_url: str | None
    branch: str
    catalog_prefix: str

    def file_url(self, path: str) -> str | None:
        """`<repo>/blob/<branch>/<path>` for a catalog-relative path, when the remote is known."""
        if not self.web_url:
            return None
        return f"{self.web_url.rstrip('/')}/blob/{self.branch}/{self.catalog_prefix}{path}"


_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")


def web_url_of_remote(remote: str) -> str | None:
    """The browsable https URL of a Git remote, or None for local paths."""
    remote = remote.strip()
    if remote.startswith(("http://", "https://")):
        url = re.sub(r"//[^/@]+@", "//", remote)
    elif remote.startswith("ssh://"):
        url = "https://" + re.sub(r"^ssh://(?:[^@/]+@)?([^/:]+)(?::\d+)?", r"\1", remote)
    else:
        match = _SCP_LIKE.match(remote)
        if not match or "/" in match.group(1):
            return None
        url = f"https://{match.group(1)}/{match.group(2)}"
    url = url.removesuffix("/").removesuffix(".git")
    return safe_url(url)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def repo_info(catalog_root: Path, config: dict | None) -> RepoInfo:
    """Find the web URL, branch and catalog prefix; any of them may be unknown."""
    config = config or {}
    root = Path(catalog_root).resolve()
    toplevel = _git(root, "rev-parse", "--show-toplevel") if root.is_dir() else None
    prefix = ""
    if toplevel:
        relative = root.relative_to(Path(toplevel).resolve()).as_posix()
        prefix = "" if relative == "." else relative + "/"
    web_url = safe_url(config.get("repoUrl"))
    if web_url is None and toplevel:
        remote = _git(root, "remote", "get-url", "origin")
        web_url = web_url_of_remote(remote) if remote else None
    branch = config.get("branch") if isinstance(config.get("branch"), str) else None
    if not branch and toplevel:
        branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
        if branch == "HEAD":
            branch = None
    return RepoInfo(web_url=web_url, branch=branch or "main", catalog_prefix=prefix)
