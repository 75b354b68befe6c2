"""The runner's pages of the site: sign-in, API keys, runs, a run, approvals, admin.

They are written only when the site names a runner (`runnerUrl` in gantry.yaml, or the
runner serving the site itself): a site without one stays purely static. Each page is a
small shell (title, heading, a `noscript` note) that `static/runner/app.js` fills in from
the runner's public REST API and WebSocket; nothing about a user is in the built HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .pages import SiteContext, base
from .urls import root_prefix


@dataclass(frozen=True)
class RunnerPage:
    """One page: its folder, the `data-page` its script keys on, and the role it needs."""

    folder: str
    page: str
    title: str
    role: str | None
    intro: str


RUNNER_PAGES: tuple[RunnerPage, ...] = (
    RunnerPage("signin", "signin", "Sign in", None,
               "Sign in to the runner to run actions, follow runs and approve them."),
    RunnerPage("account/keys", "keys", "API keys", "viewer",
               "Keys for scripts and CI: a key acts as you, with at most your role."),
    RunnerPage("runs", "runs", "Runs", "viewer",
               "Action runs, newest first."),
    RunnerPage("runs/view", "run", "Run", "viewer",
               "One run of an action, followed live."),
    RunnerPage("approvals", "approvals", "Approvals", "developer",
               "Runs waiting for your decision."),
    RunnerPage("admin/users", "users", "Users", "admin",
               "The runner's accounts: create them, change roles, disable and delete."),
    RunnerPage("admin/audit", "audit", "Audit log", "admin",
               "Every sign-in, write, run and decision, newest first."),
    RunnerPage("admin/plugins", "plugins", "Plugin settings", "platform-engineer",
               "Settings of the bundled plugins. Secrets are write-only: never shown again."),
)
"""Every runner page, in the order the account menu lists them."""


def runner_page(ctx: SiteContext, page: RunnerPage) -> dict[str, Any]:
    """Context of one runner page's shell."""
    root = root_prefix(page.folder)
    return {**base(ctx, root, "runner", page.title), "page": page}
