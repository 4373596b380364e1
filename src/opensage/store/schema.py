"""The metadata tables: one generic resource table for every kind, and tags.

Every SageMaker resource (training job, model, endpoint, ...) is a row: kind, name, ARN,
status, times, and the resource's own document (its spec and state) as JSON. Describe,
List, tags and pagination are then written once for all kinds. Migrations live in
``store/migrations``; change a table here only together with a new migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class EpochTime(TypeDecorator[datetime]):
    """A UTC datetime kept as epoch seconds: sortable and identical on SQLite and PostgreSQL."""

    impl = Float
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> float | None:
        return None if value is None else value.timestamp()

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else datetime.fromtimestamp(float(value), tz=UTC)


metadata = MetaData()

resources = Table(
    "resources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("arn", String(2048), nullable=False, unique=True),
    Column("status", String(64), nullable=False),
    Column("creation_time", EpochTime, nullable=False),
    Column("last_modified_time", EpochTime, nullable=False),
    Column("document", JSON, nullable=False),
    # Bumped by every update; an update that finds another version lost a race and retries.
    Column("version", Integer, nullable=False, default=0),
    UniqueConstraint("kind", "name", name="uq_resources_kind_name"),
    Index("ix_resources_kind_creation", "kind", "creation_time"),
    Index("ix_resources_kind_status", "kind", "status"),
)

tags = Table(
    "tags",
    metadata,
    Column("resource_id", Integer, ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)
