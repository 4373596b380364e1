"""The metadata store: SQLAlchemy over SQLite (default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from opensage.errors import ServiceUnavailableError
from opensage.store.database import claim, open_engine, upgrade
from opensage.store.repository import ListQuery, Page, ResourceRecord, ResourceRepository, SortBy, SortOrder

__all__ = [
    "ListQuery",
    "Page",
    "ResourceRecord",
    "ResourceRepository",
    "SortBy",
    "SortOrder",
    "claim",
    "open_engine",
    "open_repository",
    "upgrade",
]


def open_repository(url: str) -> ResourceRepository:
    """Open the database at ``url``, migrate it to the current schema, and wrap it."""
    engine = open_engine(url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        # The URL as SQLAlchemy shows it, password masked; the driver's reason says what failed.
        raise ServiceUnavailableError(
            f"Cannot open the metadata database {engine.url}: {str(exc.orig).strip()}"
        ) from exc
    return ResourceRepository(engine)
