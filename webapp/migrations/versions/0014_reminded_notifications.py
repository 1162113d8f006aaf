"""Notifications may be reminders of a task's timeoutAction (``reminded``, 催办 by the rules).

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("task_waiting", "returned", "due_soon", "overdue", "escalated", "completed")
AFTER = (*BEFORE, "reminded")


def _kinds(kinds: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.create_check_constraint("kind", _kinds(AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'reminded'")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.create_check_constraint("kind", _kinds(BEFORE))
