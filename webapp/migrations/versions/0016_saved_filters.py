"""Inbox orders people sort by, and filters saved per person.

The inbox can be sorted by when tasks arrived (newest or longest waiting first) and by
priority (highest first, then newest): partial indexes over the open tasks in exactly those
orders let one page stop after its rows however many tasks are open. A person's named
filters (scope, procedure, text, overdue, order) are kept in ``saved_filters``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
OPEN = "status = 'open'"


def upgrade() -> None:
    op.create_index(
        "ix_human_tasks_open_created",
        "human_tasks",
        ["park_id", "created_at", "id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_human_tasks_open_priority",
        "human_tasks",
        ["park_id", "priority", "created_at", "id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("query", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name="fk_saved_filters_park_id_parks"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_saved_filters_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_saved_filters"),
        sa.UniqueConstraint(
            "user_id", "park_id", "name", name="uq_saved_filters_user_id_park_id_name"
        ),
    )


def downgrade() -> None:
    op.drop_table("saved_filters")
    op.drop_index("ix_human_tasks_open_priority", table_name="human_tasks")
    op.drop_index("ix_human_tasks_open_created", table_name="human_tasks")
