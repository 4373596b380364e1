"""boto3 clients for one opensage server, made on first use and closed together."""

from __future__ import annotations

from typing import Any

from opensage.security.credentials import Credentials


class Clients:
    """``credentials`` None leaves them to boto3's own chain (environment, profiles, ~/.aws)."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._credentials = credentials
        self._made: dict[str, Any] = {}
        self._boto3: Any = None

    def get(self, service: str) -> Any:
        """The client for ``service`` (``s3``, ``sagemaker``, ``sagemaker-runtime``, ``logs``)."""
        if service not in self._made:
            self._made[service] = self._session().client(
                service,
                endpoint_url=self._endpoint_url,
                region_name=self._region,
                aws_access_key_id=self._credentials.access_key_id if self._credentials else None,
                aws_secret_access_key=self._credentials.secret_access_key if self._credentials else None,
                config=_config(),
            )
        return self._made[service]

    def close(self) -> None:
        for client in self._made.values():
            client.close()
        self._made.clear()

    def _session(self) -> Any:
        if self._boto3 is None:
            import boto3

            # A boto3 Session of its own: boto3's default one is shared by the whole process.
            self._boto3 = boto3.session.Session()
        return self._boto3


def _config() -> Any:
    from botocore.config import Config

    # Path-style S3 URLs are what opensage serves; standard retries ride out a busy server.
    return Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"})
