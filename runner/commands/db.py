"""`gantry db upgrade` and `gantry db version`: the store's schema, outside the runner.

A deployment may run `gantry db upgrade` as a step of its own before the replicas start
(a Kubernetes init job, say); `gantry serve` runs the same upgrade at start anyway, under
the same lock, so either order is safe.
"""

from __future__ import annotations

import sys

import click

from ..config import ConfigError, Settings
from ..store import schema
from ..store.db import StoreError


@click.group()
def command() -> None:
    """The runner's store: GANTRY_DATABASE_URL, or SQLite in GANTRY_DATA_DIR."""


@command.command("upgrade")
def upgrade() -> None:
    """Apply the migrations the store has not had yet (safe next to starting replicas)."""
    try:
        settings = Settings.from_env()
        store = schema.connect(settings.store_location)
        try:
            before, after = schema.migrate(store)
        finally:
            store.close()
    except (ConfigError, StoreError) as exc:
        click.echo(f"gantry db upgrade: {exc}", err=True)
        sys.exit(2)
    where = f"{store.dialect} store {store.path}"
    if before == after:
        click.echo(f"{where}: already at schema version {after}")
    else:
        click.echo(f"{where}: upgraded from schema version {before} to {after}")


@command.command("version")
def version() -> None:
    """Print the store's schema version and the one this Gantry knows."""
    try:
        settings = Settings.from_env()
        store = schema.connect(settings.store_location)
        try:
            current = schema.schema_version(store)
        finally:
            store.close()
    except (ConfigError, StoreError) as exc:
        click.echo(f"gantry db version: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{current} (this Gantry knows {schema.LATEST_VERSION})")
