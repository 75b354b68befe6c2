"""`gantry serve`: the runner on gunicorn, worker processes with many threads each.

One worker by default; `--workers N` starts N that share the clone and the data folder
(slots, a write lock across processes, an index each and events relayed between them:
`runner.catalog.workers`). Threads (gthread) give concurrency for requests and long-lived
WebSocket connections. SIGTERM and SIGINT stop it gracefully: gunicorn stops accepting,
open WebSockets are told to close, in-flight requests finish.
"""

from __future__ import annotations

import gc
import logging
import sys
from dataclasses import replace
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from ..auth import accounts
from ..config import ConfigError, Settings
from ..store.db import StoreError
from ..store.schema import open_store

THREADS = 32
GRACEFUL_TIMEOUT = 10


class RunnerServer(BaseApplication):
    """gunicorn, configured in code: no config file and no command-line parsing of its own."""

    def __init__(self, settings: Settings, threads: int = THREADS, app_factory: Any = None,
                 access_log: bool = False) -> None:
        self.settings = settings
        self.threads = threads
        self.app_factory = app_factory
        self.access_log = access_log
        super().__init__()

    def load_config(self) -> None:
        options = {
            "bind": f"{_bind_host(self.settings.host)}:{self.settings.port}",
            "workers": self.settings.workers,
            "worker_class": "gthread",
            "threads": self.threads,
            "timeout": 60,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "keepalive": 5,
            "proc_name": "gantry-runner",
            "errorlog": "-",
            "loglevel": "info",
            "accesslog": "-" if self.access_log else None,
            "post_worker_init": _close_websockets_on_exit,
            "control_socket_disable": True,
            "forwarded_allow_ips": ",".join(str(n) for n in self.settings.trusted_proxies),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: "
                                   "%(message)s")
        if self.app_factory is not None:
            return self.app_factory()
        from ..app import create_app

        app = create_app(self.settings, warm_in_background=True)
        # What start-up loaded (index structures, schemas, templates) lives as long as the
        # process: keep the cyclic collector from walking it on every full collection.
        gc.freeze()
        return app


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _close_websockets_on_exit(worker: Any) -> None:
    """On SIGTERM, wake every WebSocket of the app's bus so its thread ends within the grace
    period."""
    state = worker.wsgi.extensions.get("gantry")
    if state is None:  # an app of another kind (the benchmarks' bare endpoint)
        return
    bus = state.bus
    original = worker.handle_exit

    def handle_exit(sig: int, frame: Any) -> None:
        bus.close()
        original(sig, frame)

    import signal

    worker.handle_exit = handle_exit
    signal.signal(signal.SIGTERM, handle_exit)


def preflight(settings: Settings) -> None:
    """Check what would make the worker fail, with a clear message, before starting it."""
    settings.check_secret_key()
    if not settings.catalog.is_dir():
        raise ConfigError(f"GANTRY_CATALOG: the catalog folder {settings.catalog} does not exist")
    store = open_store(settings.store_location)
    try:
        if not accounts.ensure_admin(store, settings.admin_password):
            raise ConfigError(
                "no admin user exists yet: set GANTRY_ADMIN_PASSWORD (at least 8 characters) "
                "so the first start can create the user 'admin'")
    except accounts.AccountError as exc:
        raise ConfigError(f"GANTRY_ADMIN_PASSWORD: {exc}") from None
    finally:
        store.close()


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1; "
              "0.0.0.0 to expose the runner).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="TCP port (default GANTRY_PORT or 8080).")
@click.option("--threads", type=click.IntRange(2, 512), default=THREADS, show_default=True,
              help="Request threads (each open WebSocket holds one).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes sharing the clone and the data folder (default "
                   "GANTRY_WORKERS or 1).")
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
def command(host: str | None, port: int | None, threads: int, workers: int | None,
            access_log: bool) -> None:
    """Run the runner: REST API, actions, WebSocket and the site at /."""
    try:
        settings = Settings.from_env()
        settings = replace(settings, host=host or settings.host,
                           port=settings.port if port is None else port,
                           workers=settings.workers if workers is None else workers)
        preflight(settings)
    except (ConfigError, StoreError) as exc:
        click.echo(f"gantry serve: {exc}", err=True)
        sys.exit(2)
    click.echo(f"gantry serve: listening on http://{_bind_host(settings.host)}:{settings.port}"
               f" (catalog {settings.catalog}, data {settings.data_dir})", err=True)
    RunnerServer(settings, threads=threads, access_log=access_log).run()
