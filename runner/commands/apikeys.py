"""`gantry apikeys create|list|revoke`: API keys without the API (bootstrap, offboarding)."""

from __future__ import annotations

import sys

import click

from ..auth import accounts
from ..auth.roles import ROLES
from ..store import apikeys as apikey_store
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


@command.command("list")
@click.option("--user", "username", default=None, help="Only this user's keys.")
def list_keys(username: str | None) -> None:
    """One line per key: id, user, name, role, prefix and last use (never the key itself)."""
    store = open_store()
    try:
        owner = None
        if username is not None:
            owner = user_store.by_name(store, username)
            if owner is None:
                click.echo(f"gantry apikeys list: no user named {username!r}", err=True)
                sys.exit(2)
        names = {user.id: user.username for user in user_store.list_all(store)}
        for record in apikey_store.list_for(store, owner.id if owner else None):
            click.echo(f"{record.id}\t{names.get(record.user_id, '?')}\t{record.name}\t"
                       f"{record.role}\t{record.prefix}…\t{record.last_used_at or 'never used'}")
    finally:
        store.close()


@command.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key by its id: requests stop at once, open WebSockets within seconds."""
    store = open_store()
    try:
        if not accounts.revoke_api_key(store, key_id):
            click.echo(f"gantry apikeys revoke: no key with id {key_id!r}", err=True)
            sys.exit(2)
    finally:
        store.close()
    click.echo(f"revoked key {key_id}", err=True)
