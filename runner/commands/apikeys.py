"""`gantry apikeys create --user NAME --name KEYNAME`: bootstrap an API key (printed once)."""

from __future__ import annotations

import sys

import click

from ..auth import accounts
from ..auth.roles import ROLES
from ..store import users as user_store
from .users import open_store


@click.group()
def command() -> None:
    """Manage the runner's API keys (in GANTRY_DATA_DIR)."""


@command.command("create")
@click.option("--user", "username", required=True, help="The user the key acts for.")
@click.option("--name", "key_name", required=True, help="A name to recognise the key by.")
@click.option("--role", type=click.Choice(ROLES), default=None,
              help="The key's role (default and maximum: the user's role).")
def create(username: str, key_name: str, role: str | None) -> None:
    """Create a key and print it; it is stored hashed and cannot be shown again."""
    store = open_store()
    try:
        owner = user_store.by_name(store, username)
        if owner is None:
            click.echo(f"gantry apikeys create: no user named {username!r}", err=True)
            sys.exit(2)
        try:
            new = accounts.create_api_key(store, owner, key_name, role)
        except accounts.AccountError as exc:
            click.echo(f"gantry apikeys create: {exc}", err=True)
            sys.exit(2)
    finally:
        store.close()
    click.echo(f"created key {new.record.name} (id {new.record.id}, role {new.record.role}) "
               f"for {owner.username}; it is shown only once:", err=True)
    click.echo(new.key)
