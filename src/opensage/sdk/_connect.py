"""``connect()``: find the server to talk to, or start one in this process."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.sdk._errors import ServerUnavailableError
from opensage.sdk._session import DEFAULT_BUCKET, DEFAULT_ROLE, Session
from opensage.security.credentials import CREDENTIALS_FILE, client_credentials, read_credentials_file

if TYPE_CHECKING:
    from opensage.settings import Settings

_HEALTH_TIMEOUT_SECONDS = 2.0


def connect(
    url: str | None = None,
    *,
    local: bool = False,
    home: str | Path | None = None,
    region: str | None = None,
    bucket: str = DEFAULT_BUCKET,
    role: str = DEFAULT_ROLE,
) -> Session:
    """A session with an opensage server.

    - ``connect("http://host:port")``: that server.
    - ``connect()``: the server running from ``home`` (``OPENSAGE_HOME``, default
      ``~/.opensage``) as its ``server.json`` records it, if it answers; else the default
      URL (``OPENSAGE_HOST``/``OPENSAGE_PORT``, ``http://127.0.0.1:8080``).
    - ``connect(local=True)``: a server started inside this process on a free loopback port,
      keeping its state in ``home`` (default: a temporary folder, removed afterwards); it
      stops when the session is closed. For notebooks and tests.

    ``region`` defaults to the settings' (``OPENSAGE_REGION``, ``us-east-1``) and chooses the
    image URIs the SDK writes; ``bucket`` is where the SDK keeps data and models (created
    on first use); ``role`` is the RoleArn jobs and models are created with (required by
    the API, not checked by opensage). ServerUnavailableError is raised when nothing answers.

    Example::

        import opensage

        with opensage.connect(local=True) as session:
            uri = session.upload(df, label="target")
    """
    if local:
        if url is not None:
            raise ValueError("Give a URL to connect to, or local=True to start a server here, not both")
        return _start_local(home, region, bucket, role)
    settings = _settings(home)
    resolved = url or _recorded_server(settings) or settings.endpoint_url
    if not answers(resolved):
        raise ServerUnavailableError(resolved)
    return Session(
        resolved,
        region=region or settings.region,
        bucket=bucket,
        role=role,
        credentials=client_credentials(settings.home, os.environ),
    )


def _settings(home: str | Path | None, **values: Any) -> Settings:
    from opensage.settings import Settings

    if home is not None:
        values["home"] = Path(home)
    return Settings(**values)


def answers(url: str) -> bool:
    """Whether an opensage server answers ``GET /health`` at ``url``."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=_HEALTH_TIMEOUT_SECONDS) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def _recorded_server(settings: Settings) -> str | None:
    """The URL a running ``opensage server`` recorded in ``<home>/server.json``, if it answers."""
    try:
        url = str(json.loads(settings.server_file.read_text())["url"])
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return url if answers(url) else None


def _start_local(home: str | Path | None, region: str | None, bucket: str, role: str) -> Session:
    from opensage.embedded import EmbeddedServer, free_port

    temporary = tempfile.TemporaryDirectory(prefix="opensage-") if home is None else None
    values: dict[str, Any] = {"host": "127.0.0.1", "port": free_port()}
    if region is not None:
        values["region"] = region
    settings = _settings(temporary.name if temporary else home, **values)
    server = EmbeddedServer(settings)
    try:
        server.start()
    except BaseException:
        if temporary is not None:
            temporary.cleanup()
        raise

    def stop() -> None:
        # Stopping records running jobs as Stopped and shuts model servers down first.
        server.stop()
        if temporary is not None:
            temporary.cleanup()

    # The server just started wrote its admin key into the home; AWS_* variables may be real AWS's.
    credentials = read_credentials_file(settings.home / CREDENTIALS_FILE)
    return Session(
        server.endpoint_url,
        region=settings.region,
        bucket=bucket,
        role=role,
        on_close=stop,
        credentials=credentials,
    )
