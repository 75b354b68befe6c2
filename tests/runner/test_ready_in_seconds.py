"""A `gantry serve` answers /healthz at once, serves the API as soon as its index is open,
renders the site after, and starts from a seed index (`GANTRY_INDEX_SEED`) re-reading only
what changed since it was built. Real processes, real Git, real DuckDB files."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.benchmarks import synth
from tests.support.runner_process import (
    GANTRY,
    GIT_IDENTITY,
    RunnerProcess,
    git,
    http,
    make_catalog_repo,
)


def readiness(runner: RunnerProcess) -> tuple[int, dict]:
    response = http.get(runner.url("/readyz"), timeout=5)
    return response.status_code, response.json()


def test_the_api_serves_before_the_site_and_says_what_is_warming(tmp_path: Path) -> None:
    synth.generate(tmp_path / "src", 4000)
    repo = make_catalog_repo(tmp_path / "repo", catalog=tmp_path / "src")
    runner = RunnerProcess(repo / "catalog", tmp_path / "data", wait_for="healthz",
                           startup_timeout=120)
    runner.start()
    try:
        seen: list[tuple[int, dict]] = []
        refused_api = refused_site = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status, body = readiness(runner)
            seen.append((status, body))
            if status == 503 and refused_api is None:
                refused_api = http.get(runner.url("/api/v1/entities?limit=1"),
                                       headers=runner.auth(), timeout=5)
            if status == 200 and "site" in body["warming"] and refused_site is None:
                refused_site = http.get(runner.url("/"), timeout=5)
            if status == 200 and not body["warming"]:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"never warm: {seen[-1]}\n{runner.log()}")
        first_status, first = seen[0]
        assert first_status == 503 and first["status"] == "warming", seen[0]
        assert "index" in first["warming"] and first["checks"]["index"].startswith("warming")
        assert refused_api is not None and refused_api.status_code == 503
        assert refused_api.headers["Retry-After"] == "2"
        assert "starting" in refused_api.json()["error"]
        serving = [body for status, body in seen if status == 200 and "site" in body["warming"]]
        assert serving, "the API never served while the site was rendering"
        assert refused_site is not None and refused_site.status_code == 503
        assert "Retry-After" in refused_site.headers
        with runner.client() as client:
            assert client.get("/api/v1/entities", params={"limit": 1}).status_code == 200
            assert client.get("/").status_code == 200
        log = runner.log()
        assert "ready: the API serves" in log and "warm: the site is rendered" in log
        assert log.index("ready: the API serves") < log.index("warm: the site is rendered")
    finally:
        runner.stop()


def test_a_seed_index_is_caught_up_instead_of_rebuilt(tmp_path: Path) -> None:
    repo = make_catalog_repo(tmp_path / "repo", with_remote=True)
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "repo-remote.git"), str(ci)],
                   check=True)
    built = subprocess.run([str(GANTRY), "build", "--catalog", str(ci / "catalog"), "--out",
                            str(tmp_path / "dist")], capture_output=True, text=True,
                           env={**os.environ, **GIT_IDENTITY})
    assert built.returncode == 0, built.stderr
    path = repo / "catalog" / "Service" / "default" / "payment-api.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "title: Payment API", "title: Payment API (seeded)"), encoding="utf-8")
    git(repo, "commit", "-qam", "Retitle after the seed was built")
    runner = RunnerProcess(repo / "catalog", tmp_path / "data", wait_for="ready",
                           env={"GANTRY_INDEX_SEED": str(tmp_path / "dist" / "catalog.duckdb")})
    runner.start()
    try:
        with runner.client() as client:
            entity = client.get("/api/v1/entities/service/payment-api").json()
            found = client.get("/api/v1/search", params={"q": "seeded"}).json()
        assert entity["metadata"]["title"] == "Payment API (seeded)"
        assert any(hit["name"] == "payment-api" for hit in found)
        log = runner.log()
        assert "index: starting from a copy of" in log
        assert "index: caught up by re-reading 1 file(s)" in log
        assert " entities, " not in log.split("caught up")[0]  # no full build before it
    finally:
        runner.stop()

    path.write_text(path.read_text(encoding="utf-8").replace("(seeded)", "(restarted)"),
                    encoding="utf-8")
    git(repo, "commit", "-qam", "Retitle while the runner was down")
    runner.start()
    try:
        with runner.client() as client:
            entity = client.get("/api/v1/entities/service/payment-api").json()
        assert entity["metadata"]["title"] == "Payment API (restarted)"
        assert runner.log().count("index: caught up by re-reading 1 file(s)") >= 1
    finally:
        runner.stop()
