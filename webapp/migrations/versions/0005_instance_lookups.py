"""An instance's open tasks and pending jobs are found without scanning its finished ones.

A long-lived application (returned for correction hundreds of times) collects finished task
rows and done jobs; looking up the open and pending ones by instance alone read them all.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_human_tasks_instance_status", "human_tasks", ["instance_id", "status"])
    op.drop_index("ix_human_tasks_instance_id", table_name="human_tasks")
    op.create_index("ix_jobs_instance_kind_status", "jobs", ["instance_id", "kind", "status"])
    op.drop_index("ix_jobs_instance_id", table_name="jobs")


def downgrade() -> None:
    op.create_index("ix_jobs_instance_id", "jobs", ["instance_id"])
    op.drop_index("ix_jobs_instance_kind_status", table_name="jobs")
    op.create_index("ix_human_tasks_instance_id", "human_tasks", ["instance_id"])
    op.drop_index("ix_human_tasks_instance_status", table_name="human_tasks")
