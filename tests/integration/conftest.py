"""A real opensage server on a free loopback port, and real boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support import make_client, make_settings

from opensage.embedded import EmbeddedServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One server for the whole session; tests use unique names so they don't interfere."""
    with EmbeddedServer(make_settings(tmp_path_factory.mktemp("opensage-home"))) as running:
        yield running


@pytest.fixture(scope="session")
def s3_client(server: EmbeddedServer) -> Any:
    return make_client("s3", server.endpoint_url)


@pytest.fixture(scope="session")
def sagemaker_client(server: EmbeddedServer) -> Any:
    return make_client("sagemaker", server.endpoint_url)


@pytest.fixture(scope="session")
def logs_client(server: EmbeddedServer) -> Any:
    return make_client("logs", server.endpoint_url)
