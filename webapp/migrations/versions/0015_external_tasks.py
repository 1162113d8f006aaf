"""External work: service tasks done by outside workers (fetch-and-lock), and park service tokens.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "external_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("variables", JSON_TYPE, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=True),
        sa.Column("lock_expires_at", TIMESTAMP, nullable=True),
        sa.Column("available_at", TIMESTAMP, nullable=False),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'completed', 'failed', 'bpmn_error', 'cancelled')",
            name=op.f("ck_external_tasks_status"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_external_tasks_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_external_tasks_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_tasks")),
    )
    op.create_index(
        "ix_external_tasks_fetch",
        "external_tasks",
        ["park_id", "topic", "status", "available_at"],
    )
    op.create_index("ix_external_tasks_instance", "external_tasks", ["instance_id", "status"])
    op.create_table(
        "service_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_service_tokens_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_service_tokens_token_hash")),
    )
    op.create_index(op.f("ix_service_tokens_park_id"), "service_tokens", ["park_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_service_tokens_park_id"), table_name="service_tokens")
    op.drop_table("service_tokens")
    op.drop_index("ix_external_tasks_instance", table_name="external_tasks")
    op.drop_index("ix_external_tasks_fetch", table_name="external_tasks")
    op.drop_table("external_tasks")
