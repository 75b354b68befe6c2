"""The built site in a real headless Chromium: entity page, search, catalog filters and the
action form's live command."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
        page.locator("#result.ok").wait_for(timeout=10_000)
        assert "run-1" in page.locator("#result").inner_text()
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
