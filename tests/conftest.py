"""Settings shared by every test: no test reads the developer's AWS configuration or home."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import PostgresServer, PostgresUnavailable, throwaway_postgres


@pytest.fixture(autouse=True)
def _isolated_aws_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "OPENSAGE_HOME", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server (Debian's packages, installed if missing) for the session.

    Never skipped: if PostgreSQL cannot be installed or started, its tests fail saying why.
    """
    try:
        with throwaway_postgres() as running:
            yield running
    except PostgresUnavailable as exc:
        pytest.fail(f"the PostgreSQL store tests need a PostgreSQL server: {exc}", pytrace=False)
