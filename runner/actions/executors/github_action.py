"""`github-action`: dispatch a GitHub Actions workflow and follow its run to the conclusion.

Config (the keys `schemas/action.json` allows): `repository: owner/name` or
`repoURL: https://github.com/owner/name[.git]` (or a GitHub Enterprise URL), `workflow` (file
name such as `deploy.yml`, or the numeric id), `ref` (default `main`), `timeout` (whole
seconds for the run to appear after the dispatch; default 60, at most 300) and
`followTimeout` (whole seconds to follow the run; default 3600). Reads are spaced by
`GANTRY_GITHUB_POLL_INTERVAL` seconds (default 3), a setting of the runner rather than of each
action. Credentials and `apiUrl` come from the github plugin's settings.

The run moves through three phases kept in `ctx.state`:
- `dispatch`: recorded (with the time) by `start` before anything is sent, then the next
  step sends the one `workflow_dispatch`, asking for `return_run_details`;
- `discover`: GitHub answered 204 (or refused `return_run_details`, or the answer was lost),
  so the new run is looked for among the workflow's dispatched runs on the ref;
- `follow`: the run id is known; it is read until `completed`, and its conclusion decides.

After a restart, a run in `follow` is followed again by its id; a run whose dispatch may have
been sent is only ever looked for, never dispatched again; a run that had not reached the
dispatch step starts normally.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from generator.validate.action_spec import REPO_URL, config_problems
from runner.plugins.github.client import DispatchLost, GitHubClient
from runner.plugins.github.errors import GitHubError, GitHubUnavailable, RateLimited
from runner.plugins.github.runs import CLAIMS, CLOCK_SKEW, candidates
from runner.plugins.github.settings import GitHubConfigError, GitHubSettings

from .base import BaseExecutor, Done, Failed, RunContext, Step, Wait

log = logging.getLogger(__name__)

DEFAULT_REF = "main"
DEFAULT_TIMEOUT = 60
DEFAULT_FOLLOW_TIMEOUT = 3600
DEFAULT_POLL_INTERVAL = 3.0
MAX_POLL_INTERVAL = 60.0
FOLLOW_INTERVAL_CAP = 15.0
"""Following a long run, reads slow down from the poll interval to one every 15 seconds."""
POLL_ENV = "GANTRY_GITHUB_POLL_INTERVAL"
UNREACHABLE_RETRY = 2.0


@dataclass(frozen=True)
class Target:
    """Where and what to dispatch, from a validated `spec.config`."""

    owner: str
    repo: str
    workflow: str
    ref: str
    host: str | None
    timeout: float
    follow_timeout: float
    poll_interval: float

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"


def poll_interval() -> float:
    """Seconds between reads: `GANTRY_GITHUB_POLL_INTERVAL` when valid, else 3."""
    try:
        value = float(os.environ.get(POLL_ENV, ""))
    except ValueError:
        return DEFAULT_POLL_INTERVAL
    return value if 0 < value <= MAX_POLL_INTERVAL else DEFAULT_POLL_INTERVAL


def parse_config(config: dict[str, Any]) -> tuple[Target | None, list[str]]:
    """The dispatch target, or None and every problem of the config (no I/O).

    The config is checked as `gantry validate` checks it (`$defs/github-action` of
    `schemas/action.json` and the shared rules); what is left here is reading it.
    """
    problems = [message for _path, _key, message in config_problems("github-action", config)]
    if problems:
        return None, problems
    host = None
    if "repoURL" in config:
        owner, repo = REPO_URL.match(config["repoURL"].strip()).groups()
        host = (urlsplit(config["repoURL"].strip()).hostname or "").removeprefix("www.")
    else:
        owner, repo = config["repository"].split("/")
    raw = config["workflow"]
    workflow = str(raw).strip().removeprefix(".github/workflows/")
    return Target(owner, repo, workflow, config.get("ref", DEFAULT_REF).strip(), host,
                  float(config.get("timeout", DEFAULT_TIMEOUT)),
                  float(config.get("followTimeout", DEFAULT_FOLLOW_TIMEOUT)),
                  poll_interval()), []


def workflow_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """Inputs as GitHub takes them: strings, other values in their JSON form (3 → "3")."""
    return {name: value if isinstance(value, str) else json.dumps(value)
            for name, value in inputs.items()}


class GitHubActionExecutor(BaseExecutor):
    type = "github-action"

    def validate_config(self, config: dict[str, Any]) -> list[str]:
        return parse_config(config)[1]

    # -- steps -------------------------------------------------------------------------------

    def start(self, ctx: RunContext) -> Step:
        """Record that a dispatch is about to be sent, before sending it: a restart from here
        on only ever looks for the run."""
        target, problems = parse_config(ctx.config)
        if target is None:
            return Failed("; ".join(problems))
        ctx.state.clear()
        ctx.state.update(phase="dispatch", requestedAt=time.time(), attempts=0)
        return Wait(0)

    def poll(self, ctx: RunContext) -> Step:
        target, problems = parse_config(ctx.config)
        if target is None:
            return Failed("; ".join(problems))
        try:
            client, scope = self._client(ctx, target)
        except GitHubConfigError as exc:
            return Failed(f"the github plugin is not usable: {exc}", self._outputs(target))
        phase = ctx.state.get("phase")
        try:
            if phase == "dispatch":
                return self._dispatch(ctx, target, client, scope)
            if phase == "discover":
                return self._discover(ctx, target, client, scope)
            if phase == "follow":
                return self._follow(ctx, target, client)
        except GitHubConfigError as exc:  # e.g. a private key that cannot sign
            return Failed(f"the github plugin is not usable: {exc}",
                          self._outputs(target, ctx.state))
        return Failed(f"the run is in an unknown phase {phase!r}")

    def resume(self, ctx: RunContext) -> Step:
        """Follow a known run again; look for a run that may have been dispatched; start a
        run that never reached its dispatch step. Never dispatch twice."""
        phase = ctx.state.get("phase")
        if phase is None:
            return self.start(ctx)
        target, problems = parse_config(ctx.config)
        if target is None:
            return Failed("; ".join(problems))
        if phase == "follow" and ctx.state.get("runId"):
            scope = _scope(ctx.plugin_config("github"), target)
            CLAIMS.claim(scope, int(ctx.state["runId"]), ctx.run_id)
            return self.poll(ctx)
        ctx.state.update(phase="discover", discoverSince=time.time(), resumed=True)
        # Runs that know their GitHub run reclaim it on their first read; give them that time.
        return Wait(target.poll_interval)

    # -- phases ------------------------------------------------------------------------------

    def _dispatch(self, ctx: RunContext, target: Target, client: GitHubClient,
                  scope: str) -> Step:
        state = ctx.state
        state["attempts"] = int(state.get("attempts", 0)) + 1
        state["sentAt"] = time.time()
        try:
            result = client.dispatch(target.owner, target.repo, target.workflow, target.ref,
                                     workflow_inputs(ctx.inputs))
        except DispatchLost as exc:
            log.warning("run %s: %s; looking for the run instead of dispatching again",
                        ctx.run_id, exc)
            state.update(phase="discover", discoverSince=time.time(), runIdFrom="polling",
                         answerLost=True)
            return Wait(target.poll_interval)
        except (RateLimited, GitHubUnavailable) as exc:  # refused or never sent: send later
            wait = exc.retry_in if isinstance(exc, RateLimited) else UNREACHABLE_RETRY
            if time.time() + wait - float(state["requestedAt"]) > target.timeout:
                return Failed(f"workflow {target.workflow} was not dispatched in "
                              f"{target.repository}: {exc}", self._outputs(target))
            return Wait(wait)
        except GitHubError as exc:
            return Failed(_dispatch_error(target, exc), self._outputs(target))
        log.info("run %s: dispatched %s in %s on %s", ctx.run_id, target.workflow,
                 target.repository, target.ref)
        if result.run_id is not None:
            CLAIMS.claim(scope, result.run_id, ctx.run_id)
            state.update(phase="follow", runId=result.run_id, runUrl=result.run_url,
                         htmlUrl=result.html_url, runIdFrom="dispatch",
                         followSince=time.time(), polls=0)
            return Wait(target.poll_interval)
        state.update(phase="discover", discoverSince=time.time(), runIdFrom="polling")
        return Wait(target.poll_interval)

    def _discover(self, ctx: RunContext, target: Target, client: GitHubClient,
                  scope: str) -> Step:
        state = ctx.state
        since = float(state.get("sentAt") or state.get("requestedAt") or time.time())
        wait = target.poll_interval
        try:
            runs = client.workflow_runs(target.owner, target.repo, target.workflow,
                                        branch=target.ref, created_since=since - CLOCK_SKEW,
                                        per_page=100)
        except RateLimited as exc:
            runs, wait = [], max(wait, exc.retry_in)
        except GitHubUnavailable:
            runs = []
        except GitHubError as exc:
            return Failed(f"cannot list the runs of workflow {target.workflow} in "
                          f"{target.repository}: {exc}", self._outputs(target))
        found = CLAIMS.claim_first(scope, candidates(runs, ref=target.ref, since=since),
                                   ctx.run_id)
        if found is not None:
            log.info("run %s: found GitHub run %s by polling", ctx.run_id, found["id"])
            state.update(phase="follow", runId=found["id"], runUrl=str(found.get("url") or ""),
                         htmlUrl=str(found.get("html_url") or ""), followSince=time.time(),
                         polls=0)
            return self._evaluate(ctx, target, found)
        waited = time.time() - float(state.get("discoverSince") or since)
        if waited + min(wait, 1.0) > target.timeout:
            if state.get("resumed"):
                return Failed(f"the runner restarted while dispatching workflow "
                              f"{target.workflow} in {target.repository}; no run of it "
                              f"appeared within {target.timeout:g}s, so it was not "
                              "dispatched again", self._outputs(target))
            return Failed(f"workflow {target.workflow} was dispatched in {target.repository} "
                          f"on {target.ref}, but no new run appeared within "
                          f"{target.timeout:g}s", self._outputs(target))
        return Wait(wait)

    def _follow(self, ctx: RunContext, target: Target, client: GitHubClient) -> Step:
        run_id = int(ctx.state["runId"])
        try:
            run = client.run(target.owner, target.repo, run_id)
        except RateLimited as exc:
            return self._again(ctx, target, at_least=exc.retry_in)
        except GitHubUnavailable:
            return self._again(ctx, target)
        except GitHubError as exc:
            return Failed(f"cannot follow workflow run {run_id} in {target.repository}: {exc}",
                          self._outputs(target, ctx.state))
        return self._evaluate(ctx, target, run)

    def _evaluate(self, ctx: RunContext, target: Target, run: dict[str, Any]) -> Step:
        state = ctx.state
        state["status"] = str(run.get("status") or "")
        state["runUrl"] = str(run.get("url") or state.get("runUrl") or "")
        state["htmlUrl"] = str(run.get("html_url") or state.get("htmlUrl") or "")
        if state["status"] == "completed":
            conclusion = str(run.get("conclusion") or "")
            outputs = self._outputs(target, state, conclusion)
            if conclusion == "success":
                return Done(outputs)
            return Failed(f"workflow run {state['runId']} of {target.workflow} in "
                          f"{target.repository} concluded {conclusion or 'without a conclusion'}"
                          f": {state['htmlUrl']}", outputs)
        return self._again(ctx, target)

    def _again(self, ctx: RunContext, target: Target, at_least: float = 0.0) -> Step:
        state = ctx.state
        if time.time() - float(state.get("followSince") or time.time()) > target.follow_timeout:
            return Failed(f"workflow run {state['runId']} in {target.repository} did not "
                          f"complete within {target.follow_timeout:g}s (last status "
                          f"{state.get('status') or 'unknown'}); it may still be running on "
                          "GitHub", self._outputs(target, state))
        state["polls"] = int(state.get("polls", 0)) + 1
        interval = min(target.poll_interval * 1.2 ** state["polls"],
                       max(target.poll_interval, FOLLOW_INTERVAL_CAP))
        return Wait(max(interval, at_least))

    # -- shared by the phases ----------------------------------------------------------------

    def _client(self, ctx: RunContext, target: Target) -> tuple[GitHubClient, str]:
        settings = GitHubSettings.from_config(ctx.plugin_config("github"))
        for secret in settings.secrets:
            ctx.add_secret(secret)
        if target.host and target.host not in (settings.web_host,
                                               _api_host(settings.api_url)):
            raise GitHubConfigError(
                f"config.repoURL is on {target.host}, but apiUrl is {settings.api_url}; set "
                f"apiUrl to https://{target.host}/api/v3 for GitHub Enterprise")
        return GitHubClient(settings, on_secret=ctx.add_secret), _scope_of(settings, target)

    @staticmethod
    def _outputs(target: Target, state: dict[str, Any] | None = None,
                 conclusion: str | None = None) -> dict[str, Any]:
        outputs: dict[str, Any] = {"workflow": target.workflow,
                                   "repository": target.repository, "ref": target.ref}
        if state and state.get("runId"):
            outputs.update(runId=state["runId"], runUrl=state.get("runUrl", ""),
                           htmlUrl=state.get("htmlUrl", ""), status=state.get("status", ""),
                           conclusion=conclusion)
        return outputs


def _api_host(api_url: str) -> str:
    return (urlsplit(api_url).hostname or "").lower()


def _scope_of(settings: GitHubSettings, target: Target) -> str:
    return f"{settings.api_url}/repos/{target.repository}".lower()


def _scope(plugin_config: dict[str, Any], target: Target) -> str:
    try:
        return _scope_of(GitHubSettings.from_config(plugin_config), target)
    except GitHubConfigError:
        return f"unconfigured/repos/{target.repository}".lower()


def _dispatch_error(target: Target, exc: GitHubError) -> str:
    what = f"workflow {target.workflow} in {target.repository} on {target.ref}"
    hints = {
        401: "the github plugin's credentials were refused",
        403: "the credentials lack actions:write on the repository",
        404: "the repository or workflow does not exist, or the credentials cannot see it",
        422: "GitHub refused the request",
    }
    hint = hints.get(exc.status, "GitHub refused the dispatch")
    return f"{what} not dispatched: {hint} (HTTP {exc.status}: {exc.message})"


EXECUTOR = GitHubActionExecutor()
