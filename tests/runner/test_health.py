"""/healthz, /readyz (503 when store or index is unreadable) and /metrics.

Contract checks run in process; breaking the index and the store on disk is done to a
`gantry serve` of its own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from generator.load import load_catalog
from tests.runner.inprocess import InProcessApp
from tests.support.runner_process import (
    RunnerProcess,
    http,
    make_catalog_repo,
    make_tiny_catalog,
)


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the Prometheus text, or None."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if sample == name or sample == f"{name}{{{wanted}}}":
            return float(value)
        if wanted and sample.startswith(name + "{") and all(
                f'{k}="{v}"' in sample for k, v in labels.items()):
            return float(value)
    return None


def test_healthz_and_readyz_are_public_and_ok(api: InProcessApp) -> None:
    assert api.http.get(api.url("/healthz")).json() == {"status": "ok"}
    ready = api.http.get(api.url("/readyz"))
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


def test_metrics_count_requests_by_route_and_entities_by_kind(api: InProcessApp) -> None:
    for _ in range(3):
        api.http.get(api.url("/api/v1/auth/me"), headers=api.auth())
    api.http.get(api.url("/api/v1/auth/me"))
    response = api.http.get(api.url("/metrics"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    ok = metric_value(text, "gantry_http_requests_total", method="GET",
                      route="/api/v1/auth/me", status="200")
    denied = metric_value(text, "gantry_http_requests_total", method="GET",
                          route="/api/v1/auth/me", status="401")
    assert ok is not None and ok >= 3 and denied is not None and denied >= 1
    assert metric_value(text, "gantry_http_request_duration_seconds_count", method="GET",
                        route="/api/v1/auth/me") >= 4
    loaded = load_catalog(api.catalog)
    counts = Counter(entity.kind for entity in loaded.entities)
    assert counts, "the example catalog is empty"
    for kind, count in counts.items():
        assert metric_value(text, "gantry_entities", kind=kind) == count
    assert "gantry_action_runs" in text
    assert metric_value(text, "gantry_websocket_connections") is not None


def test_unmatched_routes_do_not_explode_the_label_space(api: InProcessApp) -> None:
    for i in range(5):
        api.http.get(api.url(f"/api/v1/random-{i}"))
    text = api.http.get(api.url("/metrics")).text
    assert "random-3" not in text
    assert metric_value(text, "gantry_http_requests_total", route="unmatched",
                        status="404") >= 5


@pytest.fixture
def breakable_runner(tmp_path: Path):
    repo = make_catalog_repo(tmp_path / "repo", catalog=make_tiny_catalog(tmp_path / "tiny"))
    with RunnerProcess(repo / "catalog", tmp_path / "data") as process:
        yield process


def test_readyz_fails_when_the_index_or_the_store_cannot_be_read(breakable_runner) -> None:
    runner = breakable_runner
    assert http.get(runner.url("/readyz")).status_code == 200
    index = runner.data_dir / "index" / "catalog.duckdb"
    assert index.is_file()
    saved = index.read_bytes()
    index.write_bytes(b"this is not a database" * 100)
    response = http.get(runner.url("/readyz"))
    assert response.status_code == 503
    assert "index" in response.json()["error"]
    index.write_bytes(saved)
    assert http.get(runner.url("/readyz")).status_code == 200

    store = runner.data_dir / "gantry.db"
    store.rename(store.with_suffix(".moved"))
    store.write_bytes(b"garbage" * 1000)
    response = http.get(runner.url("/readyz"))
    assert response.status_code == 503 and "store" in response.json()["error"]
    assert http.get(runner.url("/healthz")).status_code == 200
