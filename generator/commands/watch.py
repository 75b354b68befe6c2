"""`gantry watch`: rebuild the index and the site when catalog files change, and serve the
site locally with automatic reload. Problems show in the terminal and on the page."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import click
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..load import MKDOCS_FILES, YAML_SUFFIXES
from ..resources import site_dir
from ..site.config import locate_config
from ..site.devserver import start_server
from ..site.live import LiveSite

DOCS_SUFFIXES = (".md", ".markdown", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
"""Files of docs folders: an edit re-renders the docs (and reloads the page), not the index."""
DEBOUNCE_SECONDS = 0.3
"""Editors write a file in several steps; changes this close together make one rebuild."""


class _Changes(FileSystemEventHandler):
    """Collects changed catalog files (relative paths) and gantry.yaml edits."""

    def __init__(self, catalog: Path, config_path: Path):
        self.catalog = catalog.resolve()
        self.config_path = config_path.resolve()
        self.paths: set[str] = set()
        self.config_changed = False
        self.docs_changed = False
        self.lock = threading.Lock()
        self.wake = threading.Event()

    def _note(self, raw: str | bytes) -> None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw).resolve()
        if path == self.config_path:
            with self.lock:
                self.config_changed = True
            self.wake.set()
            return
        docs = path.suffix.lower() in DOCS_SUFFIXES or path.name in MKDOCS_FILES
        if path.suffix not in YAML_SUFFIXES and not docs:
            return
        try:
            relative = path.relative_to(self.catalog).as_posix()
        except ValueError:
            return
        with self.lock:
            if docs:
                self.docs_changed = True
            else:
                self.paths.add(relative)
        self.wake.set()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        self._note(event.src_path)
        if getattr(event, "dest_path", ""):
            self._note(event.dest_path)

    def take(self) -> tuple[set[str], bool, bool]:
        """Changed catalog files, whether gantry.yaml changed, whether docs changed."""
        with self.lock:
            paths, config, docs = self.paths, self.config_changed, self.docs_changed
            self.paths, self.config_changed, self.docs_changed = set(), False, False
        self.wake.clear()
        return paths, config, docs


@click.command()
@click.option("--catalog", "catalog", default="catalog", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Catalog folder.")
@click.option("--out", "out", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (catalog.duckdb and site/).")
@click.option("--config", "config_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="gantry.yaml (default: at the top of the catalog's Git working tree, else "
                   "next to the catalog folder).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to serve on (0 picks a free one).")
def command(catalog: Path, out: Path, config_path: Path | None, host: str, port: int) -> None:
    """Rebuild on change and serve the site with automatic reload."""
    if not catalog.is_dir():
        raise click.UsageError(f"catalog folder not found: {catalog}")
    config_path = config_path or locate_config(catalog)
    live = LiveSite(catalog, out, config_path, report=lambda line: click.echo(line, err=True))
    live.initial_build()
    live.site_dir.mkdir(parents=True, exist_ok=True)
    script = (site_dir() / "templates" / "_watch_reload.js").read_bytes()

    def status() -> dict:
        with live.lock:
            return live.status.as_dict()

    try:
        server = start_server(live.site_dir, host, port, status, script)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    changes = _Changes(catalog, config_path)
    observer = Observer()
    observer.schedule(changes, str(catalog), recursive=True)
    if config_path.parent.is_dir():
        observer.schedule(changes, str(config_path.parent), recursive=False)
    observer.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"Serving http://{host}:{server.server_address[1]}/ — watching {catalog} "
               "(Ctrl-C to stop)", err=True)
    try:
        while not stop.is_set():
            if not changes.wake.wait(0.2):
                continue
            time.sleep(DEBOUNCE_SECONDS)
            paths, config_changed, docs_changed = changes.take()
            if paths or config_changed or docs_changed:
                live.files_changed(paths, config_changed)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        server.shutdown()
        observer.join(timeout=5)
