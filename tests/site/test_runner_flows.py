"""The runner's flows in a real headless Chromium against a real `gantry serve`.

The runner serves the example catalog's site (so its pages are on the runner's own origin)
and dispatches GitHub workflows to the local fake GitHub. Users: `carol` (developer) runs
actions, `alice` (developer, an approver of rotate-db-credentials) approves in a second
browser context, `victor` (viewer) is never offered Execute.

With `GANTRY_SCREENSHOTS=<folder>` set, each page is also saved there as a PNG (that is how
docs/screenshots/ is made).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.github.fake_github import FakeGitHub
from tests.site.test_browser import browser  # noqa: F401  (the shared Chromium fixture)
from tests.support.runner_process import RunnerProcess, git, http, make_catalog_repo

pytestmark = pytest.mark.browser

PAT = "ghp_browserFlowsToken0123456789abcdefgh"
PASSWORD = "password-123"
SLOW = ("queued",) + ("in_progress",) * 10 + ("completed",)
"""A workflow run in progress for 10 reads (a second or two): a page can watch it run."""
SHOTS = os.environ.get("GANTRY_SCREENSHOTS")


def shoot(page, name: str) -> None:
    """Save a screenshot of the page when GANTRY_SCREENSHOTS names a folder."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header then stays on top
        page.screenshot(path=str(Path(SHOTS) / f"runner-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    root = tmp_path_factory.mktemp("runner-flows")
    with FakeGitHub(token=PAT) as github:
        deploy = github.add_workflow("acme", "deployments", "deploy.yml", statuses=SLOW, inputs={
            "service": {"required": True}, "environment": {"required": True},
            "dry_run": {}, "notes": {}})
        rotate = github.add_workflow("acme", "infrastructure", "rotate-credentials.yml",
                                     statuses=SLOW,
                                     inputs={"database": {"required": True},
                                             "reason": {"required": True}})
        repo = make_catalog_repo(root / "repo")
        with RunnerProcess(repo / "catalog", root / "data",
                           env={"GANTRY_GITHUB_POLL_INTERVAL": "0.05"}) as runner:
            for path, body in (("/api/v1/plugins/github/config",
                                {"authMode": "pat", "personalAccessToken": PAT,
                                 "apiUrl": github.api_url}),
                               ("/api/v1/plugins/github/enable", {"enabled": True})):
                answer = http.put(runner.url(path), headers=runner.auth(), json=body)
                assert answer.status_code == 200, answer.text
            for name, role in (("carol", "developer"), ("alice", "developer"),
                               ("victor", "viewer"), ("bob", "developer")):
                runner.create_user(name, role, PASSWORD)
            runner.repo = repo
            yield runner, github, deploy, rotate


@pytest.fixture
def context(browser):  # noqa: F811
    contexts = []
    errors: list[str] = []

    def make():
        made = browser.new_context(viewport={"width": 1200, "height": 800})
        contexts.append(made)
        return made

    def new_page(made=None):
        tab = (made or make()).new_page()
        tab.on("pageerror", lambda error: errors.append(str(error)))
        return tab

    yield new_page
    for made in contexts:
        made.close()
    assert errors == []


def sign_in(page, runner: RunnerProcess, username: str, next_path: str = "/") -> None:
    page.goto(runner.url("/signin/index.html?next=" + next_path))
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-form button[type=submit]")
    page.locator(f'#account .who[data-user="{username}"]').wait_for(timeout=15_000)


def run_status(page) -> str:
    return page.locator("#run-status").get_attribute("data-status")


def test_sign_in_shows_the_user_and_role_and_sign_out_ends_the_session(portal, context):
    runner, *_ = portal
    page = context()
    page.goto(runner.url("/index.html"))
    page.locator("#account a.signin").wait_for()
    page.goto(runner.url("/runs/index.html"))
    assert "needs you to be signed in" in page.locator("#runner-page").inner_text()
    shoot(page, "signin-needed")
    page.locator("#runner-page a", has_text="Sign in").click()
    page.wait_for_url("**/signin/index.html?next=*")
    page.fill("#signin-username", "carol")
    page.fill("#signin-password", "wrong-password")
    page.click("#signin-form button[type=submit]")
    page.locator("#signin-status .notice.error").wait_for()
    assert "Wrong user name or password" in page.locator("#signin-status").inner_text()
    page.fill("#signin-username", "carol")
    page.fill("#signin-password", PASSWORD)
    shoot(page, "signin")
    page.click("#signin-form button[type=submit]")
    page.wait_for_url("**/runs/index.html*")
    who = page.locator("#account .who")
    who.wait_for()
    assert who.inner_text().split() == ["carol", "developer"]
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["gantry_session"]["httpOnly"] is True
    token = cookies["gantry_session"]["value"]
    assert http.get(runner.url("/api/v1/auth/me"),
                    cookies={"gantry_session": token}).status_code == 200

    page.click("#sign-out")
    page.wait_for_url("**/signin/index.html?signedout=1")
    assert "You are signed out" in page.locator("#signin-status").inner_text()
    page.locator("#account a.signin").wait_for()
    assert http.get(runner.url("/api/v1/auth/me"),
                    cookies={"gantry_session": token}).status_code == 401


def test_failed_sign_ins_show_the_wait(portal, context):
    runner, *_ = portal
    page = context()
    page.goto(runner.url("/signin/index.html"))
    for _ in range(12):
        page.fill("#signin-username", "nobody-here")
        page.fill("#signin-password", "not-the-password")
        page.click("#signin-form button[type=submit]")
        page.locator("#signin-status .notice.error").wait_for()
        if "Try again in" in page.locator("#signin-status").inner_text():
            break
    text = page.locator("#signin-status").inner_text()
    seconds = int(re.search(r"Try again in (\d+) second", text).group(1))
    assert seconds > 0
    assert page.locator("#signin-form button[type=submit]").is_disabled()
    shoot(page, "signin-throttled")


def test_execute_lands_on_the_run_page_which_follows_the_run_live(portal, context):
    runner, github, deploy, _rotate = portal
    page = context()
    sign_in(page, runner, "carol")
    page.goto(runner.url("/actions/deploy-service/index.html?service=payment-api"))
    execute = page.locator("#action-form button[type=submit]")
    execute.wait_for(state="visible")
    page.select_option("#in-environment", "staging")
    page.fill("#in-notes", "from the browser")
    before = len(github.dispatches)
    execute.click()
    page.wait_for_url(re.compile(r".*/runs/view/index\.html\?action=deploy-service&run=.+"))
    page.wait_for_function(
        "['running', 'success'].includes(document.querySelector('#run-status')"
        "?.getAttribute('data-status'))", timeout=20_000)
    page.locator("#run-live").filter(has_text="live").wait_for(timeout=10_000)
    shoot(page, "run-running")
    page.locator('#run-status[data-status="success"]').wait_for(timeout=30_000)
    [dispatch] = github.dispatches[before:]
    assert dispatch.body["inputs"]["notes"] == "from the browser"
    link = page.locator("#executor-link")
    assert re.search(r"/acme/deployments/actions/runs/\d+$", link.get_attribute("href"))
    assert page.locator("#run-triggered-by").inner_text() == "carol"
    assert page.locator("#run-approved-by").inner_text() == "no approval needed"
    outputs = page.locator("#run-outputs").inner_text()
    assert "conclusion" in outputs and "success" in outputs
    inputs = page.locator("#run-inputs").inner_text()
    assert "payment-api" in inputs and "staging" in inputs
    shoot(page, "run-success")

    run_id = dict(part.split("=") for part in page.url.split("?")[1].split("&"))["run"]
    page.goto(runner.url("/actions/deploy-service/index.html"))
    page.locator(f'#recent-runs tr[data-run="{run_id}"]').wait_for()
    page.goto(runner.url("/runs/index.html?scope=mine&status=success"))
    page.locator(f'#runs-table tr[data-run="{run_id}"]').wait_for()
    shoot(page, "runs")
    page.select_option("#runs-status", "failed")
    page.wait_for_function(f"!document.querySelector('#runs-table tr[data-run=\"{run_id}\"]')")
    assert "status=failed" in page.url


def test_approval_in_a_second_browser_updates_the_requesters_page(portal, context):
    runner, github, _deploy, rotate = portal
    requester = context()
    sign_in(requester, runner, "carol")
    requester.goto(runner.url("/actions/rotate-db-credentials/index.html"))
    requester.locator("#action-form button[type=submit]").wait_for(state="visible")
    requester.select_option("#in-database", "postgres-orders")
    requester.fill("#in-reason", "quarterly rotation")
    requester.click("#action-form button[type=submit]")
    requester.wait_for_url("**/runs/view/index.html?action=rotate-db-credentials&run=*")
    requester.locator('#run-status[data-status="pending approval"]').wait_for()
    requester.locator("#run-live").filter(has_text="live").wait_for(timeout=10_000)
    assert requester.locator(".decision").count() == 0  # never one's own approver
    run_id = requester.url.rsplit("run=", 1)[1]

    approver = context()
    sign_in(approver, runner, "alice", "/approvals/index.html")
    item = approver.locator(f'#approvals-list li[data-run="{run_id}"]')
    item.wait_for()
    assert "requested by carol" in item.inner_text()
    shoot(approver, "approvals")
    before = len(github.dispatches)
    item.locator("button.approve").click()
    approver.locator("#approvals-status .notice.ok").wait_for()

    requester.wait_for_function(
        "document.querySelector('#run-status').getAttribute('data-status') != 'pending approval'",
        timeout=20_000)
    requester.locator('#run-status[data-status="success"]').wait_for(timeout=30_000)
    assert requester.locator("#run-approved-by").inner_text() == "alice"
    assert len(github.dispatches) == before + 1
    shoot(requester, "run-approved")


def test_rejection_with_a_reason_fails_the_run_live(portal, context):
    runner, *_ = portal
    requester = context()
    sign_in(requester, runner, "carol")
    answer = http.post(runner.url("/api/v1/actions/rotate-db-credentials/execute"),
                       cookies={"gantry_session": requester.context.cookies()[0]["value"]},
                       headers={"X-Requested-With": "test"},
                       json={"inputs": {"database": "postgres-users", "reason": "test"}})
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]
    requester.goto(runner.url(f"/runs/view/index.html?action=rotate-db-credentials&run={run_id}"))
    requester.locator("#run-live").filter(has_text="live").wait_for(timeout=10_000)

    approver = context()
    sign_in(approver, runner, "alice", "/approvals/index.html")
    item = approver.locator(f'#approvals-list li[data-run="{run_id}"]')
    item.locator("button.reject").click()
    assert "Give a reason" in item.inner_text()
    item.locator("input[name=reason]").fill("not this week")
    item.locator("button.reject").click()
    approver.locator("#approvals-status .notice.ok").wait_for()
    requester.locator('#run-status[data-status="failed"]').wait_for(timeout=10_000)
    assert "rejected by alice: not this week" in requester.locator("#run-error").inner_text()


def test_a_viewer_is_never_offered_execute_or_approvals(portal, context):
    runner, *_ = portal
    page = context()
    sign_in(page, runner, "victor")
    page.goto(runner.url("/actions/deploy-service/index.html"))
    page.locator(".execute .notice").wait_for()
    assert "may not run this action" in page.locator(".execute").inner_text()
    assert not page.locator("#action-form button[type=submit]").is_visible()
    assert page.locator("#account a", has_text="Approvals").count() == 0
    shoot(page, "action-viewer")
    page.goto(runner.url("/approvals/index.html"))
    assert "needs the developer role; you have viewer" in page.locator(
        "#runner-page").inner_text()


def test_signed_out_visitor_is_offered_sign_in_instead_of_execute(portal, context):
    runner, *_ = portal
    page = context()
    page.goto(runner.url("/actions/deploy-service/index.html"))
    page.locator("#execute-signin").wait_for()
    assert not page.locator("#action-form button[type=submit]").is_visible()


def test_api_keys_are_shown_once_and_revoked(portal, context):
    runner, *_ = portal
    page = context()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, runner, "carol", "/account/keys/index.html")
    page.locator("#keys-list").filter(has_text="no API keys").wait_for()
    page.fill("#key-name", "ci")
    page.select_option("#key-role", "viewer")
    assert page.locator("#key-role option").all_inner_texts() == ["viewer", "developer"]
    page.click("#key-form button[type=submit]")
    key = page.locator("#new-key").input_value()
    assert key
    page.click("#copy-key")
    page.locator("#keys-status").filter(has_text="Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    me = http.get(runner.url("/api/v1/auth/me"), headers={"Authorization": f"Bearer {key}"})
    assert me.json()["username"] == "carol" and me.json()["role"] == "viewer"
    row = page.locator("#keys-list tr", has_text="ci")
    row.wait_for()
    shoot(page, "api-keys")
    page.reload()
    assert key not in page.content()
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#keys-list tr", has_text="ci").locator("button").click()
    page.locator("#keys-status").filter(has_text="is revoked").wait_for()
    assert http.get(runner.url("/api/v1/auth/me"),
                    headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_sign_in_by_keyboard_alone_with_visible_focus(portal, context):
    runner, *_ = portal
    page = context()
    page.goto(runner.url("/signin/index.html"))
    page.locator("#signin-username:focus").wait_for()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.type("carol")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "signin-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.locator('#account .who[data-user="carol"]').wait_for()
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && !el.labels?.length && !el.getAttribute('aria-label'))
        .map(el => el.id || el.name)""")
    assert unlabelled == []


def test_run_pages_fit_a_phone(portal, context, browser):  # noqa: F811
    runner, *_ = portal
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context(phone)
        sign_in(page, runner, "carol", "/runs/index.html?scope=all")
        page.locator("#runs-table table, #runs-table p").first.wait_for()
        for path in ("/runs/index.html?scope=all", "/approvals/index.html",
                     "/account/keys/index.html", PAYMENT_API):
            page.goto(runner.url(path))
            page.locator("#account .who").wait_for()
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1"), path
        page.goto(runner.url("/runs/index.html?scope=all"))
        page.locator("#runs-table table, #runs-table p").first.wait_for()
        shoot(page, "runs-phone")
    finally:
        phone.close()


PAYMENT_API = "/catalog/service/default/payment-api/index.html"


def open_editor(page):
    page.locator("#entity-edit").click()
    page.locator("#entity-editor #edit-metadata-description").wait_for()


def test_edit_an_entity_and_find_the_commit(portal, context):
    runner, *_ = portal
    page = context()
    sign_in(page, runner, "alice", PAYMENT_API)
    open_editor(page)
    description = page.locator("#edit-metadata-description")
    assert description.input_value() == "Handles all payment processing"
    assert page.locator("#edit-spec-lifecycle").input_value() == "production"
    description.fill("Handles every payment, edited in the browser")
    edited = "Handles every payment, edited in the browser"
    assert edited in page.locator("#edit-yaml").input_value()
    shoot(page, "entity-edit")
    page.click("#edit-save")
    commit = page.locator("#edit-commit").get_attribute("data-commit")
    log = git(runner.repo, "log", "-1", "--format=%H%n%an%n%s")
    head, author, _subject = log.splitlines()
    assert commit == head and author == "alice"
    shown = git(runner.repo, "show", "HEAD:catalog/Service/default/payment-api.yaml")
    assert "description: Handles every payment, edited in the browser" in shown
    assert "# Payment API — the heart of the payments system." in shown  # comments kept


def test_validation_problems_show_at_their_fields(portal, context):
    runner, *_ = portal
    page = context()
    sign_in(page, runner, "alice", PAYMENT_API)
    open_editor(page)
    yaml_box = page.locator("#edit-yaml")
    yaml_box.fill(yaml_box.input_value().replace("lifecycle: production",
                                                  "lifecycle: forever"))
    assert page.locator("#edit-spec-lifecycle").input_value() == ""  # not one of the options
    page.click("#edit-save")
    problem = page.locator('[data-problem-for="spec.lifecycle"]')
    problem.wait_for()
    assert "forever" in problem.inner_text()
    assert page.locator("#edit-spec-lifecycle").get_attribute("aria-invalid") == "true"
    shoot(page, "entity-invalid")


def test_concurrent_edit_is_a_409_that_shows_what_changed(portal, context):
    runner, *_ = portal
    mine, theirs = context(), context()
    sign_in(mine, runner, "alice", PAYMENT_API)
    sign_in(theirs, runner, "bob", PAYMENT_API)
    open_editor(mine)
    open_editor(theirs)
    theirs.locator("#edit-spec-system").fill("payments-core")
    theirs.click("#edit-save")
    theirs.locator("#edit-commit").wait_for()
    head = git(runner.repo, "rev-parse", "HEAD").strip()
    mine.locator("#edit-metadata-title").fill("Payments API")
    mine.click("#edit-save")
    conflict = mine.locator("#edit-conflict")
    conflict.wait_for()
    assert "spec.system" in conflict.inner_text() and '"payments-core"' in conflict.inner_text()
    assert git(runner.repo, "rev-parse", "HEAD").strip() == head  # nothing overwritten
    shoot(mine, "entity-conflict")
    mine.click("#edit-take-theirs")
    assert mine.locator("#edit-spec-system").input_value() == "payments-core"
    mine.locator("#edit-metadata-title").fill("Payments API")
    mine.click("#edit-save")
    mine.locator("#edit-commit").wait_for()
    assert "title: Payments API" in git(runner.repo, "show",
                                        "HEAD:catalog/Service/default/payment-api.yaml")


def test_create_and_delete_from_the_page(portal, context):
    runner, *_ = portal
    page = context()
    sign_in(page, runner, "alice", PAYMENT_API)
    page.locator("#entity-new").click()
    page.locator("#edit-metadata-name").fill("ledger-api")
    page.locator("#edit-metadata-owner").fill("platform-team")
    page.select_option("#edit-spec-type", "backend")
    page.select_option("#edit-spec-lifecycle", "experimental")
    page.click("#edit-save")
    page.locator("#edit-commit").wait_for()
    assert "ledger-api" in git(runner.repo, "show", "--stat", "HEAD")
    new_page = runner.url("/catalog/service/default/ledger-api/index.html")
    deadline = time.monotonic() + 30
    while http.get(new_page).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)  # the runner rebuilds the site after the commit
    page.goto(new_page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#entity-delete").click()
    commit = page.locator("#delete-commit")
    commit.wait_for()
    assert git(runner.repo, "rev-parse", "HEAD").startswith(commit.inner_text())
    assert "ledger-api" not in git(runner.repo, "ls-files")


def test_edit_is_offered_only_where_the_write_policy_allows(portal, context):
    runner, *_ = portal
    viewer = context()
    sign_in(viewer, runner, "victor", PAYMENT_API)
    viewer.wait_for_load_state("networkidle")
    assert viewer.locator("#entity-edit").count() == 0
    developer = context()
    sign_in(developer, runner, "carol", PAYMENT_API)  # not in platform-team
    developer.wait_for_load_state("networkidle")
    assert developer.locator("#entity-edit").count() == 0
    developer.goto(runner.url("/catalog/team/default/platform-team/index.html"))
    developer.wait_for_load_state("networkidle")
    assert developer.locator("#entity-edit").count() == 0  # Team needs platform-engineer
    member = context()
    sign_in(member, runner, "alice", PAYMENT_API)
    member.locator("#entity-edit").wait_for()


def sign_in_admin(page, runner: RunnerProcess, next_path: str) -> None:
    page.goto(runner.url("/signin/index.html?next=" + next_path))
    page.fill("#signin-username", "admin")
    page.fill("#signin-password", runner.admin_password)
    page.click("#signin-form button[type=submit]")
    page.locator('#account .who[data-user="admin"]').wait_for()


def test_admin_manages_users_and_reads_the_audit_log(portal, context):
    runner, *_ = portal
    admin = context()
    sign_in_admin(admin, runner, "/admin/users/index.html")
    admin.fill("#user-name", "dora")
    admin.fill("#user-password", PASSWORD)
    admin.select_option("#user-role", "developer")
    admin.click("#user-form button[type=submit]")
    row = admin.locator('#users-list tr[data-user="dora"]')
    row.wait_for()
    assert row.locator("select").input_value() == "developer"

    dora = context()
    sign_in(dora, runner, "dora", "/runs/index.html")
    token = dora.context.cookies()[0]["value"]
    row.locator("select").select_option("viewer")
    admin.locator("#users-status").filter(has_text="dora is now viewer").wait_for()
    assert http.get(runner.url("/api/v1/auth/me"),
                    cookies={"gantry_session": token}).status_code == 401
    dora.reload()
    dora.locator("#account a.signin").wait_for()  # her session ended with the role change
    shoot(admin, "admin-users")

    admin.locator('#users-list tr[data-user="dora"] button.toggle').click()
    admin.locator("#users-status").filter(has_text="dora is disabled").wait_for()
    assert admin.locator('#users-list tr[data-user="dora"]').inner_text().count("disabled") == 1
    refused = http.post(runner.url("/api/v1/auth/login"),
                        json={"username": "dora", "password": PASSWORD})
    assert refused.status_code == 401

    admin.goto(runner.url("/admin/audit/index.html"))
    admin.locator("#audit-table table").wait_for()
    admin.fill("#audit-resource", "dora")
    admin.fill("#audit-resourceType", "User")
    admin.click("#audit-filters button[type=submit]")
    admin.wait_for_function("document.querySelectorAll('#audit-table tbody tr').length >= 3 &&"
                            "[...document.querySelectorAll('#audit-table tbody tr')]"
                            ".every(r => r.innerText.includes('dora'))")
    actions = admin.locator("#audit-table tbody td:nth-child(3)").all_inner_texts()
    assert actions[:3] == ["login.failed", "update", "update"]  # newest first
    assert "create" in actions
    assert "resource=dora" in admin.url
    shoot(admin, "admin-audit")

    admin.goto(runner.url("/admin/users/index.html"))
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.locator('#users-list tr[data-user="dora"] button.danger').click()
    admin.locator("#users-status").filter(has_text="dora is deleted").wait_for()
    assert admin.locator('#users-list tr[data-user="dora"]').count() == 0


def test_admin_pages_say_which_role_they_need(portal, context):
    runner, *_ = portal
    page = context()
    sign_in(page, runner, "carol", "/admin/audit/index.html")
    assert "needs the admin role; you have developer" in page.locator("#runner-page").inner_text()
    assert page.locator("#account a", has_text="Audit").count() == 0


def test_plugin_settings_keep_secrets_write_only(portal, context):
    runner, github, *_ = portal
    page = context()
    sign_in_admin(page, runner, "/admin/plugins/index.html")
    secret = page.locator("#plugin-github-personalAccessToken")
    secret.wait_for()
    assert secret.input_value() == "" and secret.get_attribute("type") == "password"
    assert "A value is stored" in page.locator("#plugin-github").inner_text()
    assert page.locator("#plugin-github-apiUrl").input_value() == github.api_url
    assert page.locator("#plugin-github-enabled").is_checked()
    assert PAT not in page.content()
    shoot(page, "admin-plugins")
    page.click("#plugin-github button[type=submit]")  # unchanged: the stored secret stays
    page.locator("#plugin-github-status").filter(has_text="Saved.").wait_for()
    secret.fill(PAT)  # replaced (by the same value, so the other tests keep working)
    page.click("#plugin-github button[type=submit]")
    # "Saved." still shows from the first save: wait for the form to empty the secret field
    page.wait_for_function(
        "() => document.querySelector('#plugin-github-personalAccessToken').value === ''",
        timeout=10_000)
    page.locator("#plugin-github-status").filter(has_text="Saved.").wait_for()
    assert PAT not in page.content()
    stored = http.get(runner.url("/api/v1/plugins/github/config"), headers=runner.auth()).json()
    assert stored["personalAccessToken"] == "__GANTRY_SECRET_REDACTED__"
    [entry] = http.get(runner.url("/api/v1/audit"), headers=runner.auth(),
                       params={"action": "plugin.config.update", "limit": 1}).json()
    assert PAT not in str(entry)
    assert finished_run(runner)["status"] == "success"  # the kept and retyped secret work


def finished_run(runner: RunnerProcess) -> dict:
    """Run deploy-service as the admin through the API and wait for its end."""
    answer = http.post(runner.url("/api/v1/actions/deploy-service/execute"),
                       headers=runner.auth(),
                       json={"inputs": {"service": "payment-api", "environment": "staging"}})
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = http.get(runner.url(f"/api/v1/actions/deploy-service/runs/{run_id}"),
                       headers=runner.auth()).json()
        if run["status"] in ("success", "failed"):
            break
        time.sleep(0.1)
    return run


CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => { for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
    return [255, 255, 255]; };
  const low = [];
  for (const el of document.querySelectorAll(
      '#account a, #account button, #runner-page button, #runner-page a, .badge, .notice, '
      + 'label, .entity-tools button, th, td')) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    const fg = rgb(getComputedStyle(el).color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) low.push(`${el.tagName}.${el.className} "${el.textContent.trim()
      .slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return low;
}"""
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.labels?.length && !el.getAttribute('aria-label'))
  .map(el => el.id || el.name)"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_runner_page_has_labels_and_aa_contrast(portal, context, browser,  # noqa: F811
                                                      scheme):
    runner, *_ = portal
    finished_run(runner)
    made = browser.new_context(color_scheme=scheme)
    try:
        page = context(made)
        sign_in_admin(page, runner, "/index.html")
        pages = {"/runs/index.html?scope=all": "#runs-table table",
                 "/approvals/index.html": "#approvals-list > *",
                 "/account/keys/index.html": "#keys-list > *",
                 "/admin/users/index.html": "#users-list table",
                 "/admin/audit/index.html": "#audit-table table",
                 "/admin/plugins/index.html": "#plugin-github",
                 "/actions/deploy-service/index.html": "#recent-runs > *",
                 PAYMENT_API: "#entity-edit"}
        for path, ready in pages.items():
            page.goto(runner.url(path))
            page.locator(ready).first.wait_for()
            if path == PAYMENT_API:
                open_editor(page)
            assert page.evaluate(UNLABELLED) == [], path
            assert page.evaluate(CONTRAST) == [], (scheme, path)
        page.goto(runner.url("/runs/index.html?scope=all"))
        page.locator("#runs-table table").wait_for()
        page.locator("#runs-table a").first.click()
        page.locator("#run-status").wait_for()
        assert page.evaluate(CONTRAST) == [], (scheme, "run page")
    finally:
        made.close()
