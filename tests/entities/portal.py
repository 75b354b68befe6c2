"""A real `gantry serve` on a temporary Git repository holding the example catalog.

Used by the session fixture in conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.runner_process import PROJECT_ROOT, RunnerProcess, git, make_catalog_repo

EXTRA_TEAMS = """\
# Two small teams kept together in one file.
# Nothing references them, so either may be deleted.
apiVersion: gantry.io/v1
kind: Team
metadata:
  name: guild-a   # first guild
  title: Guild A
spec:
  email: guild-a@example.com
---
apiVersion: gantry.io/v1
kind: Team
metadata:
  name: guild-b
  title: Guild B
  tags: [guild,   community]
spec:
  email: guild-b@example.com
"""

ROLES = ("viewer", "developer", "platform-engineer")

DEVELOPER_TEAMS = ("platform-team", "backend-services", "frontend-team")
"""Teams that list the `developer` test user in `spec.members`, so that its writes to
their entities pass the write policy (developers write only their teams' entities)."""


def _team_listing(team: str, member: str) -> str:
    """The example catalog's Team file with `member` added to the end of its members."""
    text = (PROJECT_ROOT / "catalog" / "Team" / "default" / f"{team}.yaml").read_text()
    return text + f"    - name: {member}\n      role: engineer\n"


class Portal:
    """The runner under test, its repository, and a token per role."""

    def __init__(self, runner: RunnerProcess, repo: Path) -> None:
        self.runner = runner
        self.repo = repo
        self.catalog = repo / "catalog"
        self.tokens = {"admin": runner.admin_token}
        for role in ROLES:
            self.tokens[role] = runner.create_user(role.replace("-", ""), role)

    def client(self, role: str = "admin") -> httpx.Client:
        return self.runner.client(self.tokens[role])

    def git(self, *args: str) -> str:
        return git(self.repo, *args)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


def start_portal(base: Path) -> Iterator[Portal]:
    extra = {f"catalog/Team/default/{team}.yaml": _team_listing(team, "developer")
             for team in DEVELOPER_TEAMS}
    repo = make_catalog_repo(base / "repo",
                             extra_files={"catalog/guilds.yaml": EXTRA_TEAMS, **extra})
    with RunnerProcess(repo / "catalog", base / "data") as runner:
        yield Portal(runner, repo)


