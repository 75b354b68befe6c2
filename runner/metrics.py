"""Prometheus metrics of the runner: requests, latency, entities, action runs, WebSockets.

Each app has its own registry, so several apps in one process (tests) never collide.
Entity and run counts are read at scrape time, so they are never stale.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .catalog.workspace import Workspace
from .store.db import DATABASE_ERRORS, Store

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _CatalogCollector(Collector):
    """Entity counts by kind (from the index) and action runs by status (from the store)."""

    def __init__(self, store: Store, workspace: Workspace) -> None:
        self.store = store
        self.workspace = workspace

    def collect(self) -> Iterator[GaugeMetricFamily]:
        entities = GaugeMetricFamily("gantry_entities", "Entities in the catalog by kind",
                                     labels=["kind"])
        for kind, count in self._entity_counts():
            entities.add_metric([kind], count)
        yield entities
        runs = GaugeMetricFamily("gantry_action_runs", "Action runs by status",
                                 labels=["status"])
        for status, count in self._run_counts():
            runs.add_metric([status], count)
        yield runs

    def _entity_counts(self) -> list[tuple[str, int]]:
        workspace = self.workspace
        try:
            con = workspace.connect()
            try:
                rows = con.execute(
                    "SELECT kind, count(*) FROM entities GROUP BY kind ORDER BY kind").fetchall()
            finally:
                con.close()
        except Exception as exc:  # an index being rebuilt must not break the scrape
            log.debug("entity counts unavailable: %s", exc)
            return []
        return [(str(kind), int(count)) for kind, count in rows]

    def _run_counts(self) -> list[tuple[str, int]]:
        try:
            rows = self.store.connection().execute(
                "SELECT status, count(*) FROM action_runs GROUP BY status ORDER BY status"
            ).fetchall()
        except DATABASE_ERRORS:
            return []
        return [(str(status), int(count)) for status, count in rows]


class Metrics:
    """The app's metric objects; `ws_connections` is moved by the WebSocket endpoint."""

    def __init__(self, store: Store, workspace: Workspace) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("gantry_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("gantry_http_request_duration_seconds",
                                 "HTTP request latency by route", ["method", "route"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.ws_connections = Gauge("gantry_websocket_connections",
                                    "Open WebSocket connections", registry=self.registry)
        self.registry.register(_CatalogCollector(store, workspace))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def install(app: Flask, store: Store, workspace: Workspace) -> Metrics:
    """Count and time every request by its route template (not its raw path); entity and run
    counts come from `workspace`'s index and `store` at scrape time."""
    metrics = Metrics(store, workspace)

    @app.before_request
    def _start_timer() -> None:
        g.gantry_started = time.perf_counter()

    @app.teardown_request
    def _observe(exc: BaseException | None) -> None:
        started = g.pop("gantry_started", None)
        if started is None:
            return
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        status = g.pop("gantry_status", 500 if exc else 0)
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        metrics.requests.labels(request.method, route, str(status)).inc()

    @app.after_request
    def _remember_status(response: Any) -> Any:
        g.gantry_status = response.status_code
        return response

    return metrics
