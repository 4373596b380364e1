"""``opensage env``: the shell exports that point AWS clients at this opensage."""

from __future__ import annotations

import click

from opensage.cli.context import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY, get_context


@click.command()
@click.option("--home", help="Where opensage keeps its state (default ~/.opensage).")
@click.pass_context
def env(ctx: click.Context, home: str | None) -> None:
    """Print exports for boto3 and the AWS CLI: eval "$(opensage env)"."""
    context = get_context(ctx)
    if home:
        context.home = home
    settings = context.settings()
    click.echo(f"export AWS_ENDPOINT_URL={context.endpoint_url()}")
    click.echo(f"export AWS_DEFAULT_REGION={settings.region}")
    click.echo(f"export AWS_ACCESS_KEY_ID={DEV_ACCESS_KEY_ID}")
    click.echo(f"export AWS_SECRET_ACCESS_KEY={DEV_SECRET_ACCESS_KEY}")
    click.echo("# opensage does not verify credentials yet; any key pair is accepted")
