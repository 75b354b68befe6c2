"""The OpenAPI document matches the app's routes, and fuzzing it finds no server error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import openapi
from tests.runner.inprocess import InProcessApp
from tests.support.runner_process import (
    RunnerProcess,
    http,
    make_catalog_repo,
    make_tiny_catalog,
)


@pytest.fixture(scope="module")
def app_routes(api: InProcessApp) -> set[tuple[str, str]]:
    return openapi.routes(api.app)


def test_every_route_is_described_and_every_description_is_a_route(app_routes) -> None:
    documented = set(openapi.OPERATIONS)
    assert app_routes - documented == set(), "routes missing from runner/openapi.py"
    assert documented - app_routes == set(), "described operations that no route serves"


def test_served_document_lists_exactly_the_routes(api: InProcessApp, app_routes) -> None:
    response = api.http.get(api.url("/api/v1/openapi.json"))
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    served = {(method, path) for path, methods in document["paths"].items()
              for method in methods}
    assert served == app_routes
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation["responses"], (method, path)
            for name in (p["name"] for p in operation.get("parameters", [])
                         if p["in"] == "path"):
                assert f"{{{name}}}" in path


def test_document_roles_are_those_the_code_enforces(api: InProcessApp) -> None:
    document = api.http.get(api.url("/api/v1/openapi.json")).json()
    paths = document["paths"]
    assert paths["/api/v1/audit"]["get"]["x-gantry-role"] == "admin"
    assert paths["/api/v1/entities"]["post"]["x-gantry-role"] == "developer"
    assert paths["/api/v1/auth/login"]["post"]["security"] == []
    assert "x-gantry-role" not in paths["/healthz"]["get"]


@pytest.fixture(scope="module")
def fuzz_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerProcess]:
    base = tmp_path_factory.mktemp("fuzz")
    repo = make_catalog_repo(base / "repo", catalog=make_tiny_catalog(base / "tiny"))
    with RunnerProcess(repo / "catalog", base / "data") as process:
        yield process


def test_fuzzing_the_document_finds_no_server_error(fuzz_runner: RunnerProcess,
                                                    tmp_path: Path) -> None:
    runner = fuzz_runner
    key = http.post(runner.url("/api/v1/auth/apikeys"), headers=runner.auth(),
                    json={"name": "fuzz"}).json()["key"]
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run",
        runner.url("/api/v1/openapi.json"), "--checks", "not_a_server_error",
        "--header", f"Authorization: Bearer {key}", "--max-examples", "3",
        "--phases", "examples,fuzzing", "--max-time", "30",
        # one worker: hypothesis parses lambdas' source with `ast`, and CPython 3.11's AST
        # constructor miscounts its recursion depth when threads parse at once
        # (python/cpython#106905), failing the run with a SystemError of its own
        "--workers", "1",
        "--request-timeout", "20", "--seed", "1", "--no-shrink",
        "--generation-with-security-parameters", "false",
        "--exclude-path", "/api/v1/ws", "--suppress-health-check", "all",
        # the fuzzer reuses ids from listings: it would revoke its own key
        "--exclude-operation-id", "deleteAuthApikeysKeyId",
        "--report", "junit", "--report-dir", str(tmp_path), "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    output = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, output
    # the run was authenticated to the end, so it reached the handlers behind the role checks
    assert http.get(runner.url("/api/v1/auth/me"), headers=runner.auth(key)).status_code == 200
    assert "Traceback" not in runner.log(), runner.log()[-4000:]
