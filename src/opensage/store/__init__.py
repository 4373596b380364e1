"""The metadata store: SQLAlchemy over SQLite (default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

from opensage.store.database import open_engine, upgrade
from opensage.store.repository import ListQuery, Page, ResourceRecord, ResourceRepository, SortBy, SortOrder

__all__ = [
    "ListQuery",
    "Page",
    "ResourceRecord",
    "ResourceRepository",
    "SortBy",
    "SortOrder",
    "open_engine",
    "open_repository",
    "upgrade",
]


def open_repository(url: str) -> ResourceRepository:
    """Open the database at ``url``, migrate it to the current schema, and wrap it."""
    engine = open_engine(url)
    upgrade(engine)
    return ResourceRepository(engine)
