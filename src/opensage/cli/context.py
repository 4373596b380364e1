"""What every command shares: the settings, where the server is, and clients pointed at it."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from opensage.errors import OpenSageError
from opensage.security.credentials import Credentials, client_credentials
from opensage.settings import Settings

if TYPE_CHECKING:
    from opensage.store import ResourceRepository


@dataclass
class CliContext:
    home: str | None = None
    endpoint_override: str | None = None
    #: The key of a server this command started itself (the demo), ahead of AWS_* variables.
    credentials_override: Credentials | None = None

    def settings(self, **overrides: Any) -> Settings:
        values = {key: value for key, value in overrides.items() if value is not None}
        if self.home:
            values["home"] = self.home
        return Settings(**values)

    def endpoint_url(self) -> str:
        """The --endpoint-url given, else the running server's (server.json), else the settings' default."""
        if self.endpoint_override:
            return self.endpoint_override
        settings = self.settings()
        try:
            recorded = json.loads(settings.server_file.read_text())
            return str(recorded["url"])
        except (FileNotFoundError, KeyError, ValueError):
            return settings.endpoint_url

    def credentials(self) -> Credentials | None:
        """AWS_ACCESS_KEY_ID/SECRET if set, else the home's admin key (``<home>/credentials``)."""
        if self.credentials_override is not None:
            return self.credentials_override
        return client_credentials(self.settings().home, os.environ)

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        settings = self.settings()
        credentials = self.credentials()
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url(),
            region_name=os.environ.get("AWS_DEFAULT_REGION", settings.region),
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )


def get_context(ctx: click.Context) -> CliContext:
    found = ctx.find_object(CliContext)
    if found is None:
        raise click.UsageError("internal: the opensage command context is missing")
    return found


@contextlib.contextmanager
def home_repository(context: CliContext) -> Iterator[tuple[Settings, ResourceRepository]]:
    """The metadata store of the context's home, for commands that work without a server
    (keys, users, policies); OpenSageError becomes a one-line CLI error."""
    from opensage.store import open_repository

    settings = context.settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        repository = open_repository(settings.resolved_database_url)
    except OpenSageError as error:
        raise click.ClickException(error.message) from error
    try:
        yield settings, repository
    except OpenSageError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error
    finally:
        repository.engine.dispose()
