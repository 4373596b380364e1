"""The one settings object: the only place opensage reads environment variables.

Everything opensage keeps lives under ``home``: ``opensage.db`` (metadata), ``objects/``
(the object store), ``jobs/<kind>/<name>/`` (job working directories) and ``logs/``.
Backends are chosen by URL (``database_url``, ``objects_url``, ``executor``), never by code.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8080
# The documentation account of AWS examples would be confusing in ARNs; a run of zeros
# reads as "local" and still satisfies every 12-digit pattern in the SageMaker API.
DEFAULT_ACCOUNT_ID = "000000000000"


class Settings(BaseSettings):
    """Where opensage keeps its state and how it listens. Read from ``OPENSAGE_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="OPENSAGE_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=lambda: Path.home() / ".opensage")
    database_url: str | None = None
    objects_url: str | None = None
    executor: str = "local"
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    account_id: str = DEFAULT_ACCOUNT_ID
    log_level: str = "info"
    # How often the control plane looks at running jobs; small, because it bounds job overhead.
    job_poll_interval: float = 0.05
    # How long a stopped job's process gets to save its model before it is killed (SageMaker: 120 s).
    stop_grace_seconds: float = 30.0
    # Each host of a job is a process on this machine; more than this is refused, not oversubscribed.
    max_hosts_per_job: int = 8
    # Hosting: how long a model server may take to load before the endpoint fails...
    model_server_start_timeout: float = 120.0
    # ...how long a serverless variant stays warm without requests (SageMaker keeps it minutes)...
    serverless_idle_seconds: float = 300.0
    # ...and how many models a multi-model instance keeps loaded before evicting the least recent.
    multi_model_max_loaded: int = 8
    # Requests served at once; more are answered ThrottlingException / S3 SlowDown (which
    # botocore retries) instead of queueing without bound. 0 turns the limit off.
    max_concurrent_requests: int = Field(default=256, ge=0)
    # The admin access key a new home starts with; when unset, one is generated. Used only
    # while the home has no admin key yet (CI, containers and tests pin known credentials).
    admin_access_key_id: str | None = None
    admin_secret_access_key: str | None = None
    # Development only: accept unsigned requests as an unrestricted identity (loopback only).
    no_auth: bool = False

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("account_id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if len(value) != 12 or not value.isdigit():
            raise ValueError("account_id must be 12 digits, as AWS account ids are")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'opensage.db'}"

    @property
    def resolved_objects_url(self) -> str:
        return self.objects_url or (self.home / "objects").as_uri()

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def audit_dir(self) -> Path:
        """The audit trail: append-only JSON Lines segments, one per UTC hour."""
        return self.home / "audit"

    @property
    def server_file(self) -> Path:
        """Written by a running server so the CLI and ``opensage env`` can find it."""
        return self.home / "server.json"

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"
