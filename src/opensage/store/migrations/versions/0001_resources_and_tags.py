"""Resources and tags: the generic metadata tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from opensage.store.schema import EpochTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("arn", sa.String(2048), nullable=False, unique=True),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("creation_time", EpochTime, nullable=False),
        sa.Column("last_modified_time", EpochTime, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("kind", "name", name="uq_resources_kind_name"),
    )
    op.create_index("ix_resources_kind_creation", "resources", ["kind", "creation_time"])
    op.create_index("ix_resources_kind_status", "resources", ["kind", "status"])
    op.create_table(
        "tags",
        sa.Column(
            "resource_id", sa.Integer, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tags")
    op.drop_index("ix_resources_kind_status", "resources")
    op.drop_index("ix_resources_kind_creation", "resources")
    op.drop_table("resources")
