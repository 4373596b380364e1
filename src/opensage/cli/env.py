"""``opensage env``: the shell exports that point AWS clients at this opensage, signed with its admin key."""

from __future__ import annotations

import click

from opensage.cli.context import get_context
from opensage.security.credentials import CREDENTIALS_FILE, read_credentials_file


@click.command()
@click.option("--home", help="Where opensage keeps its state (default ~/.opensage).")
@click.pass_context
def env(ctx: click.Context, home: str | None) -> None:
    """Print exports for boto3 and the AWS CLI: eval "$(opensage env)"."""
    from opensage.cli.keys import ensure_admin_key

    context = get_context(ctx)
    if home:
        context.home = home
    settings = context.settings()
    path = settings.home / CREDENTIALS_FILE
    credentials = read_credentials_file(path)
    if credentials is None:
        # A home the server never started in: make its admin key now, as the first start would.
        ensure_admin_key(context)
        credentials = read_credentials_file(path)
    if credentials is None:
        raise click.ClickException(
            f"{path} is missing but this home already has an admin key; "
            "make a new one with `opensage keys create` and export it yourself"
        )
    click.echo(f"export AWS_ENDPOINT_URL={context.endpoint_url()}")
    click.echo(f"export AWS_DEFAULT_REGION={settings.region}")
    click.echo(f"export AWS_ACCESS_KEY_ID={credentials.access_key_id}")
    click.echo(f"export AWS_SECRET_ACCESS_KEY={credentials.secret_access_key}")
