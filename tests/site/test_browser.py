"""The built site in a real headless Chromium: entity page, search, catalog filters, the
action form's live command, and the scorecard pieces used by keyboard."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.site.conftest import build, make_repo

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == []


@pytest.fixture
def site_url(example, tmp_path, serve_under):
    www = tmp_path / "www"
    www.mkdir()
    (www / "portal").symlink_to(example.site, target_is_directory=True)
    return serve_under(www) + "/portal/"


def test_entity_page_draws_relations_and_links_work(page, site_url):
    page.goto(site_url + "catalog/service/default/payment-api/index.html")
    assert page.locator("h1").inner_text() == "Payment API"
    svg = page.locator("svg.relations")
    assert svg.is_visible()
    assert svg.bounding_box()["height"] > 100
    node = svg.locator('a[href$="platform-team/index.html"]')
    node.click()
    page.wait_for_url("**/catalog/team/default/platform-team/index.html")
    assert "Owned by this team" in page.content()


def test_search_finds_payment_api_by_typing_pay(page, site_url):
    page.goto(site_url + "search/index.html")
    page.locator("#search-input").type("pay", delay=30)
    result = page.locator('#search-results a[href*="/service/default/payment-api/"]').first
    result.wait_for(timeout=20_000)
    assert "Payment API" in page.locator("#search-results").inner_text()
    href = result.get_attribute("href")
    assert href.startswith("/portal/catalog/service/default/payment-api/")
    result.click()
    page.wait_for_url("**/payment-api/index.html")


def test_catalog_filters(page, site_url):
    page.goto(site_url + "catalog/index.html#kind=API")
    rows = page.locator("#catalog-rows tr")
    rows.first.wait_for()
    kinds = {text.strip() for text in page.locator("#catalog-rows tr td:nth-child(2)")
             .all_inner_texts()}
    assert kinds == {"API"}
    page.select_option("select[name=kind]", "")
    page.fill("input[name=q]", "payment")
    page.wait_for_function("document.querySelectorAll('#catalog-rows tr').length < 10")
    assert "Payment API" in page.locator("#catalog-rows").inner_text()
    assert "q=payment" in page.url


def test_action_form_shows_the_command_live(page, site_url):
    page.goto(site_url + "actions/deploy-service/index.html?service=payment-api")
    assert page.locator("#in-service").input_value() == "payment-api"
    page.select_option("#in-environment", "staging")
    page.check("#in-dry_run")
    command = page.locator("#cli-command").inner_text()
    assert "gantry run deploy-service" in command
    assert "--input service=payment-api" in command
    assert "--input environment=staging" in command and "--input dry_run=true" in command
    curl = page.locator("#curl-command").inner_text()
    assert "/api/v1/actions/deploy-service/execute" in curl
    assert '"environment":"staging"' in curl


class _FakeRunner(BaseHTTPRequestHandler):
    """The runner's execute endpoint, with the CORS answers a browser needs."""

    received: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", ""))
        self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, X-Requested-With")
        self.send_header("Access-Control-Allow-Methods", "POST")

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self._cors()
        self.end_headers()

    def do_GET(self) -> None:
        answers = {
            "/api/v1/auth/me": {"username": "carol", "role": "developer", "teams": []},
            "/api/v1/actions/deploy-service": {"metadata": {"name": "deploy-service"},
                                               "spec": {"type": "github-action"}},
        }
        answer = answers.get(self.path.split("?")[0])
        if answer is None and self.path.startswith("/api/v1/actions/deploy-service/runs"):
            answer = [] if self.path.split("?")[0].endswith("/runs") else {
                "id": "run-1", "actionName": "deploy-service", "status": "pending",
                "inputs": {}, "outputs": {}, "triggeredBy": "carol", "approvals": []}
        body = json.dumps(answer if answer is not None else {"error": "no such page"}).encode()
        self.send_response(200 if answer is not None else 404)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append({"path": self.path, "body": body,
                              "cookie": self.headers.get("Cookie", "")})
        answer = json.dumps({"id": "run-1", "status": "pending"}).encode()
        self.send_response(201)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def test_action_form_executes_on_the_configured_runner(page, tmp_path, serve_under):
    runner = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRunner)
    threading.Thread(target=runner.serve_forever, daemon=True).start()
    runner_url = f"http://127.0.0.1:{runner.server_address[1]}"
    try:
        built = build(make_repo(tmp_path / "repo"), {"runnerUrl": runner_url})
        base = serve_under(built.site)
        page.context.add_cookies([{"name": "gantry_session", "value": "s3cret",
                                   "url": runner_url}])
        page.goto(base + "/actions/deploy-service/index.html")
        page.fill("#in-service", "payment-api")
        page.select_option("#in-environment", "production")
        page.fill("#in-notes", "ship it")
        page.click("button[type=submit]")
        page.wait_for_url("**/runs/view/index.html?action=deploy-service&run=run-1")
        page.locator('#run-status[data-status="pending"]').wait_for(timeout=10_000)
        call = _FakeRunner.received[-1]
        assert call["path"] == "/api/v1/actions/deploy-service/execute"
        assert call["body"] == {"inputs": {"service": "payment-api", "environment": "production",
                                           "dry_run": False, "notes": "ship it"}}
        assert "gantry_session=s3cret" in call["cookie"]
    finally:
        runner.shutdown()
        runner.server_close()


def test_site_works_from_file_urls(page, example):
    page.goto((example.site / "catalog" / "index.html").as_uri() + "#kind=Service")
    page.locator("#catalog-rows tr").first.wait_for()
    kinds = set(page.locator("#catalog-rows tr td:nth-child(2)").all_inner_texts())
    assert kinds == {"Service"}
    page.locator('#catalog-rows a[href*="payment-api"]').click()
    page.wait_for_url("**/catalog/service/default/payment-api/index.html")
    page.locator('svg.relations a[href$="platform-team/index.html"]').click()
    page.wait_for_url("**/catalog/team/default/platform-team/index.html")
    assert page.locator("h1").inner_text() == "Platform Team"


def _tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element at `selector` has the focus, as a keyboard user would."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def _focus_ring(page) -> dict:
    return page.evaluate("""() => {
        const element = document.activeElement, style = getComputedStyle(element);
        return {visible: element.matches(":focus-visible"), style: style.outlineStyle,
                width: parseFloat(style.outlineWidth)};
    }""")


def test_scorecards_by_keyboard_from_entity_page_to_scorecard_page(page, site_url, example):
    """The example's user-service: its level badge and rule table, then, by keyboard only, its
    Production readiness page with the distribution and the owning team's row. Expectations
    come from the index's scorecard tables, so the pages are checked against the build."""
    ref, card = "service:default/user-service", "production-readiness"
    with duckdb.connect(str(example.index), read_only=True) as con:
        level = con.execute("SELECT level FROM scorecard_levels WHERE scorecard = ? AND ref = ?",
                            [card, ref]).fetchone()[0]
        failing = con.execute("SELECT count(*) FROM scorecard_results WHERE scorecard = ? "
                              "AND ref = ? AND NOT passed", [card, ref]).fetchone()[0]
        total, at_level = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE level IS NOT DISTINCT FROM ?) "
            "FROM scorecard_levels WHERE scorecard = ?", [level, card]).fetchone()
        owner = con.execute("SELECT owner FROM entities WHERE ref = ?", [ref]).fetchone()[0]
    assert level and failing and owner  # the example must keep a partly failing service

    page.goto(site_url + "catalog/service/default/user-service/index.html")
    scores = page.locator('section[aria-labelledby="s-scores"]')
    heading = scores.locator("h3").filter(has=page.locator(f'a[href*="scorecards/{card}/"]'))
    badge = heading.locator(".level")
    assert badge.is_visible() and badge.inner_text() == level  # written out, not colour alone
    rows = heading.locator("xpath=following-sibling::table[1]").locator("tbody tr")
    failed = rows.filter(has_text="Failed")
    assert failed.count() == failing
    assert all(cell.strip() for cell in failed.locator("td:nth-child(4)").all_inner_texts())
    assert rows.filter(has_text="Passed").count() == rows.count() - failing

    link = f'section[aria-labelledby="s-scores"] a[href*="scorecards/{card}/"]'
    _tab_to(page, link)
    ring = _focus_ring(page)
    assert ring["visible"] and ring["style"] != "none" and ring["width"] > 0
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/portal/scorecards/{card}/index.html")

    distribution = page.locator('section[aria-labelledby="s-dist"] table.distribution')
    assert f"{total} entities by level" in distribution.locator("caption").inner_text()
    level_row = distribution.locator("tbody tr").filter(
        has=page.locator(".level", has_text=level))
    assert level_row.locator("td.num").inner_text() == str(at_level)
    assert distribution.locator("tbody tr").filter(has_text="Below first level").count() == 1
    team_row = page.locator("table.teams-levels tbody tr").filter(
        has=page.locator(f'th a:text-is("{owner}")'))
    assert team_row.count() == 1
    assert int(team_row.locator("td.num").first.inner_text()) >= 1

    _tab_to(page, f'table.teams-levels th a:text-is("{owner}")')
    ring = _focus_ring(page)
    assert ring["visible"] and ring["style"] != "none" and ring["width"] > 0
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/portal/catalog/team/default/{owner}/index.html")
