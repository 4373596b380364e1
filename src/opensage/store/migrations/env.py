"""Alembic environment: migrations always run on a connection opensage hands over."""

from __future__ import annotations

from alembic import context

from opensage.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("opensage runs its migrations through opensage.store.database.upgrade()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
