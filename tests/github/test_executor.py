"""The `github-action` executor against a fake GitHub: dispatch, both ways of learning the run
id, following the run, failures with GitHub's messages, and never dispatching twice."""

from __future__ import annotations

import threading

from runner.actions.executors.base import Done, Failed, Wait
from runner.actions.executors.github_action import EXECUTOR

from .conftest import PAT, action_config, context, drive, finish, pat_config
from .fake_github import FakeGitHub


def test_success_with_run_details_from_the_dispatch(github):
    ctx = context(action_config(), pat_config(github),
                  inputs={"service": "payment-api", "environment": "staging",
                          "dry_run": True, "replicas": 3})
    step = drive(ctx)
    assert isinstance(step, Done), step
    [dispatch] = github.dispatches
    assert dispatch.path == "/repos/acme/deployments/actions/workflows/deploy.yml/dispatches"
    assert dispatch.body == {"ref": "main", "return_run_details": True,
                             "inputs": {"service": "payment-api", "environment": "staging",
                                        "dry_run": "true", "replicas": "3"}}
    assert dispatch.headers["authorization"] == f"Bearer {PAT}"
    assert dispatch.headers["accept"] == "application/vnd.github+json"
    run_id = step.outputs["runId"]
    assert run_id in github.runs
    assert step.outputs == {
        "runId": run_id, "workflow": "deploy.yml", "repository": "acme/deployments",
        "ref": "main", "conclusion": "success", "status": "completed",
        "runUrl": f"{github.api_url}/repos/acme/deployments/actions/runs/{run_id}",
        "htmlUrl": f"https://github.com/acme/deployments/actions/runs/{run_id}",
    }
    assert ctx.state["runIdFrom"] == "dispatch"
    assert not github.requests_to("GET", "/workflows/deploy.yml/runs")  # no polling needed
    assert github.runs[run_id].reads == 3  # queued, in_progress, completed


def test_204_finds_the_run_by_polling_with_filters(github):
    github.dispatch_mode = "no-details"
    github.run_visible_after_lists = 2  # GitHub takes a moment to show the new run
    ctx = context(action_config(), pat_config(github))
    step = drive(ctx)
    assert isinstance(step, Done), step
    assert ctx.state["runIdFrom"] == "polling"
    [dispatch] = github.dispatches
    assert dispatch.body["return_run_details"] is True  # always asked for first
    listing = github.requests_to("GET", "/actions/workflows/deploy.yml/runs")
    assert len(listing) >= 3
    query = listing[-1].query
    assert query["event"] == ["workflow_dispatch"] and query["branch"] == ["main"]
    assert query["created"][0].startswith(">=20")
    assert step.outputs["runId"] in github.runs


def test_422_refusing_return_run_details_falls_back_to_polling():
    with FakeGitHub(token=PAT, prefix="/api/v3", dispatch_mode="refuse-key") as ghe:
        ghe.add_workflow("acme", "deployments", "deploy.yml", inputs={"service": {}})
        ctx = context(action_config(repoURL=f"{ghe.base_url}/acme/deployments.git",
                                    repository=None),
                      pat_config(ghe), inputs={"service": "api"})
        del ctx.config["repository"]
        step = drive(ctx)
        assert isinstance(step, Done), step
        first, second = ghe.dispatches
        assert first.path == "/api/v3/repos/acme/deployments/actions/workflows/deploy.yml/" \
                             "dispatches"
        assert first.body["return_run_details"] is True
        assert "return_run_details" not in second.body
        assert len(ghe.runs) == 1  # the refused request created nothing
        run_id = step.outputs["runId"]
        assert step.outputs["htmlUrl"] == f"{ghe.base_url}/acme/deployments/actions/runs/{run_id}"
        assert ctx.state["runIdFrom"] == "polling"


def test_failed_conclusion_fails_the_run(github):
    github.add_workflow("acme", "deployments", "broken.yml", conclusion="failure")
    ctx = context(action_config(workflow="broken.yml"), pat_config(github), inputs={})
    step = drive(ctx)
    assert isinstance(step, Failed)
    assert "concluded failure" in step.error
    assert step.outputs["conclusion"] == "failure" and step.outputs["runId"]


def test_unexpected_inputs_fail_with_githubs_message(github):
    ctx = context(action_config(), pat_config(github),
                  inputs={"service": "a", "environment": "b", "colour": "blue"})
    step = drive(ctx)
    assert isinstance(step, Failed)
    assert 'Unexpected inputs provided: ["colour"]' in step.error
    assert "HTTP 422" in step.error
    assert len(github.dispatches) == 1 and not github.runs


def test_unknown_workflow_404_and_bad_credentials_401(github):
    step = drive(context(action_config(workflow="missing.yml"), pat_config(github)))
    assert isinstance(step, Failed) and "HTTP 404" in step.error
    assert "missing.yml" in step.error
    step = drive(context(action_config(), pat_config(github, token="ghp_wrong-token-value")))
    assert isinstance(step, Failed)
    assert "Bad credentials" in step.error and "credentials were refused" in step.error
    assert "ghp_wrong-token-value" not in step.error


def test_numeric_workflow_id_and_ref(github):
    workflow = github.add_workflow("acme", "deployments", "release.yml", workflow_id=4242)
    github.branches.add("release/1.2")
    ctx = context(action_config(workflow=4242, ref="release/1.2"), pat_config(github), {})
    step = drive(ctx)
    assert isinstance(step, Done), step
    assert github.dispatches[0].path.endswith("/workflows/4242/dispatches")
    assert github.runs[step.outputs["runId"]].workflow is workflow
    assert github.runs[step.outputs["runId"]].head_branch == "release/1.2"


def test_run_that_never_appears_fails_after_timeout(github):
    github.dispatch_mode = "no-details"
    github.run_visible_after_lists = 10**6
    ctx = context(action_config(timeout=1), pat_config(github))
    step = drive(ctx)
    assert isinstance(step, Failed)
    assert "no new run appeared within 1s" in step.error
    assert len(github.dispatches) == 1


def test_follow_timeout(github):
    github.add_workflow("acme", "deployments", "slow.yml", statuses=("queued", "in_progress"))
    step = drive(context(action_config(workflow="slow.yml", followTimeout=1),
                         pat_config(github), {}))
    assert isinstance(step, Failed)
    assert "did not complete within 1s" in step.error and "in_progress" in step.error


def test_unconfigured_plugin_fails_clearly(github):
    ctx = context(action_config(), {"authMode": "pat", "apiUrl": github.api_url})
    step = drive(ctx)
    assert isinstance(step, Failed)
    assert "personalAccessToken is not set" in step.error
    assert not github.dispatches


def test_repo_url_on_another_host_than_api_url_is_refused(github):
    config = action_config(repoURL="https://ghe.example/acme/deployments")
    del config["repository"]
    step = drive(context(config, pat_config(github)))
    assert isinstance(step, Failed)
    assert "ghe.example" in step.error and "apiUrl" in step.error
    assert not github.requests  # the token was never sent anywhere


def test_lost_dispatch_answer_is_not_dispatched_again(github):
    github.lose_dispatch_answers = 1
    ctx = context(action_config(), pat_config(github))
    step = drive(ctx)
    assert isinstance(step, Done), step
    assert len(github.dispatches) == 1
    assert ctx.state["answerLost"] is True and ctx.state["runIdFrom"] == "polling"
    assert step.outputs["runId"] in github.runs


def test_5xx_on_dispatch_looks_for_the_run_instead_of_resending(github):
    github.fail("POST", "/dispatches", 502, message="Server Error")
    ctx = context(action_config(timeout=1), pat_config(github))
    step = drive(ctx)
    # The 502 came before GitHub created anything, so there is no run to find; the executor
    # still never sends a second dispatch.
    assert isinstance(step, Failed) and "no new run appeared" in step.error
    assert len(github.dispatches) == 1


def test_concurrent_dispatches_claim_different_runs(github):
    github.dispatch_mode = "no-details"
    foreign = github.add_run(github.workflows[0], created_at=0)  # someone else's, long ago
    results: dict[str, object] = {}

    def one(number: int) -> None:
        ctx = context(action_config(), pat_config(github), run_id=f"run-{number}")
        results[ctx.run_id] = drive(ctx)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(step, Done) for step in results.values()), results
    claimed = [step.outputs["runId"] for step in results.values()]
    assert len(set(claimed)) == 4 and foreign.id not in claimed
    assert len(github.dispatches) == 4


def test_start_records_before_sending(github):
    ctx = context(action_config(), pat_config(github))
    step = EXECUTOR.start(ctx)
    assert isinstance(step, Wait)
    assert ctx.state["phase"] == "dispatch" and ctx.state["requestedAt"] > 0
    assert not github.requests  # nothing is sent until that state is stored


def test_resume_follows_a_known_run_by_id(github):
    first = context(action_config(), pat_config(github))
    step = EXECUTOR.start(first)
    step = EXECUTOR.poll(first)  # the dispatch
    assert isinstance(step, Wait) and first.state["phase"] == "follow"
    resumed = context(action_config(), pat_config(github), state=first.state)
    step = finish(EXECUTOR.resume(resumed), resumed)
    assert isinstance(step, Done) and step.outputs["runId"] == first.state["runId"]
    assert len(github.dispatches) == 1


def test_resume_after_a_crash_during_the_dispatch_only_looks(github):
    github.dispatch_mode = "no-details"
    first = context(action_config(), pat_config(github))
    EXECUTOR.start(first)
    stored = dict(first.state)  # what the engine had stored when the runner died
    EXECUTOR.poll(first)  # the dispatch went out; its step never returned
    resumed = context(action_config(), pat_config(github), state=stored)
    step = finish(EXECUTOR.resume(resumed), resumed)
    assert isinstance(step, Done), step
    assert len(github.dispatches) == 1
    assert resumed.state["resumed"] is True


def test_resume_when_nothing_was_sent_fails_without_dispatching(github):
    ctx = context(action_config(timeout=1), pat_config(github))
    EXECUTOR.start(ctx)
    resumed = context(action_config(timeout=1), pat_config(github), state=ctx.state)
    step = finish(EXECUTOR.resume(resumed), resumed)
    assert isinstance(step, Failed)
    assert "restarted while dispatching" in step.error and "not dispatched again" in step.error
    assert not github.dispatches


def test_resume_before_the_first_step_starts_normally(github):
    ctx = context(action_config(), pat_config(github))
    step = finish(EXECUTOR.resume(ctx), ctx)
    assert isinstance(step, Done)
    assert len(github.dispatches) == 1


def test_rate_limited_dispatch_waits_as_github_asks(github):
    github.fail("POST", "/dispatches", 429, headers={"retry-after": "30"},
                message="API rate limit exceeded")
    ctx = context(action_config(timeout=60), pat_config(github))
    EXECUTOR.start(ctx)
    step = EXECUTOR.poll(ctx)
    assert step == Wait(30.0)
    assert ctx.state["phase"] == "dispatch" and not github.runs
    step = finish(EXECUTOR.poll(ctx), ctx)  # sent again: the first was refused, not lost
    assert isinstance(step, Done)
    assert len(github.dispatches) == 2 and len(github.runs) == 1


def test_rate_limit_while_following_becomes_a_wait(github):
    github.fail("GET", "/actions/runs/", 403, message="API rate limit exceeded",
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"})
    ctx = context(action_config(), pat_config(github))
    EXECUTOR.start(ctx)
    EXECUTOR.poll(ctx)
    step = EXECUTOR.poll(ctx)
    assert isinstance(step, Wait) and step.seconds > 3000
    step = finish(EXECUTOR.poll(ctx), ctx)
    assert isinstance(step, Done)


def test_unreachable_github_fails_without_a_lost_dispatch():
    with FakeGitHub(token=PAT) as closed:
        plugin = pat_config(closed)  # the server is gone once the block ends
    step = drive(context(action_config(timeout=1), plugin))
    assert isinstance(step, Failed)
    assert "not dispatched" in step.error and "cannot reach GitHub" in step.error
