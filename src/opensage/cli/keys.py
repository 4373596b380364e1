"""``opensage keys create|list|revoke``: the home's access keys, managed without a server.

The commands open the home's metadata store directly, so they work whether or not a server
runs; a running server notices a revoked key within about a second.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from opensage.cli.context import CliContext, get_context, home_repository
from opensage.security.credentials import Credentials
from opensage.security.keys import ADMIN_USER, AccessKeys, open_access_keys


@contextlib.contextmanager
def home_keys(context: CliContext) -> Iterator[AccessKeys]:
    """The access keys of the context's home."""
    with home_repository(context) as (settings, repository):
        yield open_access_keys(repository, settings.home, settings.account_id)


def ensure_admin_key(context: CliContext) -> Credentials | None:
    """Create the home's admin key (and ``<home>/credentials``) if it has none yet."""
    settings = context.settings()
    with home_keys(context) as keys:
        return keys.ensure_admin(
            settings.home, settings.admin_access_key_id, settings.admin_secret_access_key
        )


@click.group()
def keys() -> None:
    """Manage access keys: requests must be signed (SigV4) with an active one."""


@keys.command()
@click.option("--user", default=ADMIN_USER, show_default=True, help="The user the key belongs to.")
@click.pass_context
def create(ctx: click.Context, user: str) -> None:
    """Create a key; its secret is shown this once."""
    with home_keys(get_context(ctx)) as store:
        made = store.create(user)
    click.echo(f"AccessKeyId:     {made.access_key_id}")
    click.echo(f"SecretAccessKey: {made.secret_access_key}")
    click.echo(f"User:            {user}")


@keys.command(name="list")
@click.pass_context
def list_keys(ctx: click.Context) -> None:
    """Every key of the home with its user, status and creation time (never the secret)."""
    with home_keys(get_context(ctx)) as store:
        found = store.list()
    click.echo(f"{'AccessKeyId':<22}{'User':<20}{'Status':<10}Created")
    for key in found:
        created = key.create_date.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{key.access_key_id:<22}{key.user:<20}{key.status.value:<10}{created}")


@keys.command()
@click.argument("access_key_id")
@click.pass_context
def revoke(ctx: click.Context, access_key_id: str) -> None:
    """Make a key Inactive: requests signed with it are refused from now on."""
    with home_keys(get_context(ctx)) as store:
        store.revoke(access_key_id)
    click.echo(f"Revoked {access_key_id}")
