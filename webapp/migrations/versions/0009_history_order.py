"""An application's steps are read newest first and page by page in the order taken.

The index on (instance_id, id) gives both without sorting every step of a long-lived
application; it serves what the index on instance_id alone did, which it replaces.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_step_history_instance_order", "step_history", ["instance_id", "id"])
    op.drop_index("ix_step_history_instance_id", table_name="step_history")


def downgrade() -> None:
    op.create_index("ix_step_history_instance_id", "step_history", ["instance_id"])
    op.drop_index("ix_step_history_instance_order", table_name="step_history")
