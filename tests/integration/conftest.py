"""A real opensage server on a free loopback port, and real boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opensage.embedded import EmbeddedServer
from tests.support import make_client, make_settings


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One server for the whole session; tests use unique names so they don't interfere."""
    with EmbeddedServer(make_settings(tmp_path_factory.mktemp("opensage-home"))) as running:
        yield running


@pytest.fixture()
def server_factory(tmp_path: Path) -> Iterator[Callable[..., EmbeddedServer]]:
    """Servers of a test's own (for restarts): ``server_factory(home=..., **settings)``, stopped at the end."""
    started: list[EmbeddedServer] = []

    def start(home: Path | None = None, **overrides: Any) -> EmbeddedServer:
        running = EmbeddedServer(make_settings(home or tmp_path / "home", **overrides)).start()
        started.append(running)
        return running

    yield start
    for running in started:
        try:
            running.stop()
        except Exception:
            pass


@pytest.fixture(scope="session")
def s3_client(server: EmbeddedServer) -> Any:
    return make_client("s3", server.endpoint_url)


@pytest.fixture(scope="session")
def sagemaker_client(server: EmbeddedServer) -> Any:
    return make_client("sagemaker", server.endpoint_url)


@pytest.fixture(scope="session")
def logs_client(server: EmbeddedServer) -> Any:
    return make_client("logs", server.endpoint_url)
