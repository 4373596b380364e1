"""The ``opensage`` command group."""

from __future__ import annotations

import click

from opensage import __version__
from opensage.cli.context import CliContext


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="opensage")
@click.option("--home", envvar="OPENSAGE_HOME", help="Where opensage keeps its state (default ~/.opensage).")
@click.option(
    "--endpoint-url", help="The server to talk to (default: the running server, else http://127.0.0.1:8080)."
)
@click.pass_context
def cli(ctx: click.Context, home: str | None, endpoint_url: str | None) -> None:
    """opensage: SageMaker's API and built-in algorithms on your own machine."""
    ctx.obj = CliContext(home=home, endpoint_override=endpoint_url)


def _register() -> None:
    from opensage.cli import audit, demo, env, identities, jobs, keys, server

    cli.add_command(server.server)
    cli.add_command(audit.audit)
    cli.add_command(env.env)
    cli.add_command(jobs.jobs)
    cli.add_command(jobs.endpoints)
    cli.add_command(demo.demo)
    cli.add_command(identities.users)
    cli.add_command(identities.roles)
    cli.add_command(identities.policies)
    cli.add_command(keys.keys)


def main() -> None:
    _register()
    cli(prog_name="opensage")


if __name__ == "__main__":
    main()
