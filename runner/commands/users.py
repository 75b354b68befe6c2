"""`gantry users add NAME --role ROLE`: create a user without the API (password on stdin)."""

from __future__ import annotations

import sys

import click

from ..auth import accounts
from ..auth.roles import ROLES
from ..config import ConfigError, Settings
from ..store import schema
from ..store import users as user_store
from ..store.db import Store, StoreError


def open_store() -> Store:
    """The store of GANTRY_DATA_DIR, or exit 2 with a clear message."""
    try:
        return schema.open_store(Settings.from_env().store_location)
    except (ConfigError, StoreError) as exc:
        click.echo(f"gantry: {exc}", err=True)
        sys.exit(2)


@click.group()
def command() -> None:
    """Manage the runner's users (in GANTRY_DATA_DIR)."""


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--email", default=None, help="E-mail address used as the commit author.")
def add(name: str, role: str, email: str | None) -> None:
    """Create user NAME; the password is read from standard input (one line)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    store = open_store()
    try:
        record = accounts.create_user(store, name, password, role, email)
    except accounts.AccountError as exc:
        click.echo(f"gantry users add: {exc}", err=True)
        sys.exit(1 if exc.status == 409 else 2)
    finally:
        store.close()
    click.echo(f"created user {record.username} with role {record.role}")


@command.command("list")
def list_users() -> None:
    """List users and their roles."""
    store = open_store()
    try:
        for record in user_store.list_all(store):
            click.echo(f"{record.username}\t{record.role}\t{record.email or ''}")
    finally:
        store.close()
