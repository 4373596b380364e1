"""``opensage server``: run the platform on one port until SIGINT or SIGTERM."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import click

from opensage.cli.context import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY, get_context
from opensage.errors import OpenSageError
from opensage.settings import DEFAULT_PORT, Settings


def _banner(settings: Settings) -> str:
    url = settings.endpoint_url
    return "\n".join(
        [
            f"opensage is listening on {url}  (home: {settings.home})",
            "Point boto3 at it:",
            f"  export AWS_ENDPOINT_URL={url} AWS_DEFAULT_REGION={settings.region}",
            f"  export AWS_ACCESS_KEY_ID={DEV_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={DEV_SECRET_ACCESS_KEY}",
            f'  (or: eval "$(opensage env --home {settings.home})")',
            "Stop with Ctrl-C: running jobs are stopped and recorded as Stopped.",
        ]
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
@click.pass_context
def server(
    ctx: click.Context, host: str | None, port: int | None, home: str | None, log_level: str | None
) -> None:
    """Run opensage: SageMaker, S3 and CloudWatch Logs APIs on one port."""
    import uvicorn

    from opensage.api.app import create_app
    from opensage.platform import Platform

    context = get_context(ctx)
    if home:
        context.home = home
    settings = context.settings(host=host, port=port, log_level=log_level)
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
