"""`gantry watch` as a real process: it serves the site, rebuilds on edits, and shows a
broken catalog as problems (status endpoint, page overlay script, terminal) without dying."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.site.conftest import make_repo

GANTRY = Path(sys.executable).with_name("gantry")
PAGE = "/catalog/service/default/payment-api/index.html"


def _wait(predicate, timeout: float = 60, step: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


@pytest.fixture
def watch(tmp_path):
    repo = make_repo(tmp_path / "repo")
    (repo / "gantry.yaml").write_text("title: Watched Portal\n")
    log = tmp_path / "watch.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [str(GANTRY), "watch", "--catalog", "catalog", "--out", "dist", "--port", "0"],
            cwd=repo, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        match = _wait(lambda: re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text()),
                      timeout=120)
        yield repo, f"http://127.0.0.1:{match.group(1)}", log, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10, trust_env=False)


def test_watch_serves_rebuilds_and_reports_problems(watch):
    repo, base, log, process = watch
    page = _get(base + PAGE)
    assert page.status_code == 200
    assert "Handles all payment processing" in page.text
    assert '<script src="/__gantry/reload.js"></script>' in page.text
    assert "Watched Portal" in page.text
    assert _get(base + "/__gantry/reload.js").status_code == 200
    first = _get(base + "/__gantry/status").json()
    assert first["problems"] == []

    source = repo / "catalog/Service/default/payment-api.yaml"
    original = source.read_text()
    source.write_text(original.replace("Handles all payment processing", "Edited while watched"))
    _wait(lambda: "Edited while watched" in _get(base + PAGE).text)
    _wait(lambda: _get(base + "/__gantry/status").json()["build"] > first["build"])
    assert not (repo / "dist/site" / "__gantry").exists()  # nothing injected into the build

    source.write_text(original + "  broken: [\n")
    status = _wait(lambda: (s := _get(base + "/__gantry/status").json())["problems"] and s)
    syntax = [p for p in status["problems"] if p["rule"] == "yaml-syntax"]
    assert syntax and syntax[0]["file"].endswith("Service/default/payment-api.yaml")
    assert syntax[0]["line"] > 1
    assert process.poll() is None
    assert "Edited while watched" in _get(base + PAGE).text  # last good build still served
    _wait(lambda: "payment-api.yaml" in log.read_text() and "syntax" in log.read_text().lower())

    source.write_text(original.replace("Handles all payment processing", "Fixed again"))
    _wait(lambda: "Fixed again" in _get(base + PAGE).text)
    _wait(lambda: _get(base + "/__gantry/status").json()["problems"] == [])


def test_watch_refuses_a_missing_catalog(tmp_path):
    result = subprocess.run([str(GANTRY), "watch", "--catalog", str(tmp_path / "nope"),
                             "--port", "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "catalog folder not found" in result.stderr and "Traceback" not in result.stderr


def test_watch_rerenders_docs_on_a_markdown_edit(watch):
    repo, base, log, process = watch
    docs_page = "/catalog/documentation/default/payment-api-runbook/docs/alerts/index.html"
    assert "PaymentApiErrorRateHigh" in _get(base + docs_page).text
    first = _get(base + "/__gantry/status").json()["build"]
    source = repo / "catalog/docs/payment-api-runbook/alerts.md"
    source.write_text(source.read_text() + "\n## QueueStuckWhileWatched\n")
    _wait(lambda: "QueueStuckWhileWatched" in _get(base + docs_page).text)
    _wait(lambda: _get(base + "/__gantry/status").json()["build"] > first)  # pages reload
    source.write_text(source.read_text() + "\n[gone](gone.md)\n")
    status = _wait(lambda: (s := _get(base + "/__gantry/status").json())["problems"] and s)
    assert status["problems"][0]["rule"] == "docs-link"
    assert status["problems"][0]["file"].endswith("payment-api-runbook/alerts.md")
