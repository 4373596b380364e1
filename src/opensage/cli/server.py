"""``opensage server``: run the platform on one port until SIGINT or SIGTERM."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from pathlib import Path

import click

from opensage.cli.context import get_context
from opensage.errors import OpenSageError
from opensage.security.credentials import CREDENTIALS_FILE, read_credentials_file
from opensage.settings import DEFAULT_PORT, Settings


def _banner(settings: Settings) -> str:
    url = settings.endpoint_url
    if settings.no_auth:
        signing = "  Authentication is OFF (--no-auth): any request is accepted. For development only."
    else:
        admin = read_credentials_file(settings.home / CREDENTIALS_FILE)
        signing = (
            f"  Requests must be signed; the admin key {admin.access_key_id if admin else ''} is in "
            f"{settings.home / CREDENTIALS_FILE} (0600)"
        )
    return "\n".join(
        [
            f"opensage is listening on {url}  (home: {settings.home})",
            "Point boto3 at it (endpoint, region and the admin access key):",
            f'  eval "$(opensage env --home {settings.home})"',
            signing,
            "Stop with Ctrl-C: running jobs are stopped and recorded as Stopped.",
        ]
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_no_auth(settings: Settings) -> None:
    if settings.no_auth and not is_loopback(settings.host):
        raise click.ClickException(
            f"--no-auth accepts every request unsigned, so it only binds to a loopback address "
            f"(127.0.0.1, ::1, localhost), not {settings.host}; drop --no-auth or use --host 127.0.0.1"
        )


def _check_port_free(settings: Settings) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {settings.host}:{settings.port} ({error.strerror}); "
                "is another server running there? Choose another with --port"
            ) from error


def _record_server(path: Path, settings: Settings) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(
        json.dumps({"url": settings.endpoint_url, "pid": os.getpid(), "home": str(settings.home)})
    )
    partial.replace(path)


def _forget_server(path: Path) -> None:
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (FileNotFoundError, ValueError):
        pass


@click.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help=f"Port to listen on (default {DEFAULT_PORT}).")
@click.option("--home", default=None, help="Where opensage keeps its state (default ~/.opensage).")
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--no-auth",
    is_flag=True,
    default=None,
    help="Development only: accept unsigned requests (refused unless --host is a loopback address).",
)
@click.pass_context
def server(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    home: str | None,
    log_level: str | None,
    no_auth: bool | None,
) -> None:
    """Run opensage: SageMaker, S3 and CloudWatch Logs APIs on one port."""
    import uvicorn

    from opensage.api.app import create_app
    from opensage.platform import Platform

    context = get_context(ctx)
    if home:
        context.home = home
    settings = context.settings(host=host, port=port, log_level=log_level, no_auth=no_auth)
    _check_no_auth(settings)
    if settings.no_auth:
        click.echo(
            "WARNING: authentication is OFF (--no-auth): every request is accepted unsigned.", err=True
        )
    _check_port_free(settings)
    try:
        platform = Platform(settings)
    except OpenSageError as error:
        raise click.ClickException(error.message) from error

    def ready() -> None:
        _record_server(settings.server_file, settings)
        click.echo(_banner(settings), err=True)

    app = create_app(platform, on_ready=ready)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, lifespan="on")
    finally:
        _forget_server(settings.server_file)
