"""Indexes for the bounded reads: an application's latest steps, and the inbox.

An application's steps are read newest first (its view) and page by page in the order taken:
the index on (instance_id, id) gives both without sorting every step of a long-lived
application, and serves what the index on instance_id alone did, which it replaces.

The inbox walks a park's open tasks in (due_at, created_at, id) order, the undated ones
(due_at NULL) oldest first: a partial index over the open tasks in exactly that order lets
one page stop after its rows however many tasks are open; it replaces (park_id, status,
due_at), which left every task of the same due time to be sorted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_step_history_instance_order", "step_history", ["instance_id", "id"])
    op.drop_index("ix_step_history_instance_id", table_name="step_history")
    op.create_index(
        "ix_human_tasks_open_due",
        "human_tasks",
        ["park_id", "due_at", "created_at", "id"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.drop_index("ix_human_tasks_inbox", table_name="human_tasks")


def downgrade() -> None:
    op.create_index("ix_human_tasks_inbox", "human_tasks", ["park_id", "status", "due_at"])
    op.drop_index("ix_human_tasks_open_due", table_name="human_tasks")
    op.create_index("ix_step_history_instance_id", "step_history", ["instance_id"])
    op.drop_index("ix_step_history_instance_order", table_name="step_history")
