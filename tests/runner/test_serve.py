"""`gantry serve` as a process: refusals with exit 2, graceful stop, site, read-only catalog."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import websocket

from tests.support.runner_process import (
    GANTRY,
    PROJECT_ROOT,
    SECRET_KEY,
    RunnerProcess,
    http,
    make_catalog_repo,
    make_tiny_catalog,
)


def serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(GANTRY), "serve", "--port", "0"],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout)


def test_refuses_to_start_without_an_admin_password(tmp_path: Path) -> None:
    done = serve({"GANTRY_DATA_DIR": str(tmp_path / "data"), "GANTRY_SECRET_KEY": SECRET_KEY,
                  "GANTRY_ADMIN_PASSWORD": "", "GANTRY_CATALOG": str(tmp_path)})
    assert done.returncode == 2
    assert "GANTRY_ADMIN_PASSWORD" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("key", ["", "too-short"])
def test_refuses_to_start_without_a_long_secret_key(tmp_path: Path, key: str) -> None:
    done = serve({"GANTRY_DATA_DIR": str(tmp_path / "data"), "GANTRY_SECRET_KEY": key,
                  "GANTRY_ADMIN_PASSWORD": "password-1"})
    assert done.returncode == 2
    assert "GANTRY_SECRET_KEY" in done.stderr and "16" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name, value", [("GANTRY_PORT", "eighty"),
                                         ("GANTRY_TRUSTED_PROXIES", "not-an-ip"),
                                         ("GANTRY_CATALOG", "no/such/folder")])
def test_malformed_settings_are_named(tmp_path: Path, name: str, value: str) -> None:
    done = subprocess.run([str(GANTRY), "serve"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GANTRY_DATA_DIR": str(tmp_path),
                               "GANTRY_SECRET_KEY": SECRET_KEY, "GANTRY_CATALOG": str(tmp_path),
                               "GANTRY_ADMIN_PASSWORD": "password-1", name: value})
    assert done.returncode == 2 and name in done.stderr and "Traceback" not in done.stderr


def tiny_repo(tmp_path: Path) -> Path:
    return make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))


def test_admin_password_is_only_needed_until_an_admin_exists(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    with RunnerProcess(repo / "catalog", tmp_path / "data") as first:
        assert first.admin_token
    again = RunnerProcess(repo / "catalog", tmp_path / "data", env={
        "GANTRY_ADMIN_PASSWORD": ""}, admin_password=first.admin_password).start()
    assert again.admin_token
    again.process.send_signal(signal.SIGINT)
    assert again.process.wait(timeout=30) == 0


def test_sigterm_stops_gracefully_even_with_open_websockets(tmp_path: Path) -> None:
    repo = tiny_repo(tmp_path)
    process = RunnerProcess(repo / "catalog", tmp_path / "data").start()
    sockets = [websocket.create_connection(
        process.base_url.replace("http", "ws") + "/api/v1/ws", timeout=10,
        header=[f"Authorization: Bearer {process.admin_token}"]) for _ in range(3)]
    for ws in sockets:
        assert json.loads(ws.recv())["type"] == "connected"
    started = time.monotonic()
    assert process.stop(timeout=30) == 0
    assert time.monotonic() - started < 8
    for ws in sockets:
        ws.close()
    assert "Traceback" not in process.log()


def test_serves_the_site_with_index_html_for_folders(runner: RunnerProcess) -> None:
    home = http.get(runner.url("/"))
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    for folder in ("/catalog/", "/catalog", "/search/"):
        page = http.get(runner.url(folder))
        assert page.status_code == 200 and "<html" in page.text.lower(), folder
    assert http.get(runner.url("/../../etc/passwd")).status_code == 404
    assert http.get(runner.url("/%2e%2e/%2e%2e/etc/passwd")).status_code == 404


def test_catalog_outside_git_is_served_read_only(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    make_tiny_catalog(plain / "catalog")
    shutil.copy2(PROJECT_ROOT / "gantry.yaml", plain / "gantry.yaml")
    with RunnerProcess(plain / "catalog", tmp_path / "data") as runner:
        assert http.get(runner.url("/readyz")).status_code == 200
        response = http.put(runner.url("/api/v1/dashboard/config"), headers=runner.auth(),
                            json={"announcements": []})
        assert response.status_code == 409
        assert "Git" in response.json()["error"]
        assert (plain / "gantry.yaml").read_text() == (PROJECT_ROOT / "gantry.yaml").read_text()


def test_proxy_headers_are_believed_only_from_trusted_addresses(
        configured_runner: RunnerProcess, runner: RunnerProcess) -> None:
    headers = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}
    for server, secure, address in ((configured_runner, True, "203.0.113.7"),
                                    (runner, False, "127.0.0.1")):
        body = {"username": "admin", "password": server.admin_password}
        response = http.post(server.url("/api/v1/auth/login"), json=body, headers=headers)
        assert ("Secure" in response.headers["set-cookie"]) is secure
        entries = http.get(server.url("/api/v1/audit"), headers=server.auth()).json()
        login_entry = next(e for e in entries if e["action"] == "login")
        assert login_entry["ipAddress"] == address


def test_served_action_forms_submit_to_this_runner(runner: RunnerProcess) -> None:
    page = http.get(runner.url("/actions/deploy-service/index.html"))
    assert page.status_code == 200
    assert '<button type="submit" hidden>Execute</button>' in page.text  # shown by the script
    assert '"runnerUrl": "/"' in page.text or '"runnerUrl":"/"' in page.text
    # What the form's script sends: the session cookie, the page's own Origin, the header.
    session = httpx.Client(timeout=10)
    login_response = session.post(runner.url("/api/v1/auth/login"),
                                  json={"username": "admin", "password": runner.admin_password})
    assert login_response.status_code == 200
    response = session.post(runner.url("/api/v1/actions/deploy-service/execute"),
                            headers={"Origin": runner.base_url, "X-Requested-With": "gantry-site"},
                            json={"inputs": {"service": "payment-api", "environment": "staging"}})
    assert response.status_code == 201, response.text
    assert response.json()["triggeredBy"] == "admin"
