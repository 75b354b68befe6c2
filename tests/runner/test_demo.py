"""`python -m runner.demo`: a throwaway Git repository under .gantry/demo/, reused after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from runner.demo import prepare_demo_repo
from tests.support.runner_process import LISTENING, PROJECT_ROOT, git, http, login


def test_demo_repository_is_created_once_and_reused(tmp_path: Path) -> None:
    catalog = prepare_demo_repo(PROJECT_ROOT, tmp_path / "demo")
    first_head = git(tmp_path / "demo", "rev-parse", "HEAD")
    assert (catalog / "Team").is_dir() or any(catalog.rglob("*.yaml"))
    assert (tmp_path / "demo" / "gantry.yaml").is_file()
    assert git(tmp_path / "demo", "log", "--format=%an").strip() == "Gantry demo"
    (catalog / "marker.txt").write_text("kept")
    again = prepare_demo_repo(PROJECT_ROOT, tmp_path / "demo")
    assert again == catalog and (catalog / "marker.txt").read_text() == "kept"
    assert git(tmp_path / "demo", "rev-parse", "HEAD") == first_head


def test_demo_serves_with_printed_defaults(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "catalog").symlink_to(PROJECT_ROOT / "catalog")
    (project / "gantry.yaml").write_text((PROJECT_ROOT / "gantry.yaml").read_text())
    env = {k: v for k, v in os.environ.items()
           if k not in ("GANTRY_ADMIN_PASSWORD", "GANTRY_SECRET_KEY", "GANTRY_DATA_DIR",
                        "GANTRY_CATALOG")}
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "runner.demo", "--port", "0",
                                "--root", str(project)], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 90
        while not (bound := LISTENING.search((tmp_path / "demo.log").read_bytes())):
            assert time.monotonic() < deadline and process.poll() is None, "demo never listened"
            time.sleep(0.1)
        base = f"http://127.0.0.1:{int(bound.group(1))}"
        while time.monotonic() < deadline:
            try:
                if http.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except Exception:  # not listening yet
                time.sleep(0.2)
        output = (tmp_path / "demo.log").read_text()
        assert "admin / gantry-demo" in output
        assert login(base, "admin", "gantry-demo")
        assert (project / ".gantry" / "demo" / ".git").is_dir()
        key = project / ".gantry" / "demo-data" / "demo-secret-key"
        assert len(key.read_text().strip()) >= 16
        demo_catalog = project / ".gantry" / "demo" / "catalog"
        assert demo_catalog.is_dir() and not demo_catalog.is_symlink()
        assert git(project / ".gantry" / "demo", "status", "--porcelain") == ""
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        log.close()
