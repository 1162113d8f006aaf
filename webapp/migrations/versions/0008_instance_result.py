"""An ended application keeps how it ended (approved, rejected, withdrawn, cancelled).

Lists filter on it, so it is a column beside the status rather than something read from the
history. Applications cancelled before this revision are cancelled; those that completed
before it keep no result (which end event they reached was not recorded as one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("result", sa.String(length=20), nullable=True))
        batch.create_check_constraint(
            "result", "result IN ('approved', 'rejected', 'withdrawn', 'cancelled')"
        )
    op.create_index("ix_instances_park_result", "instances", ["park_id", "result"])
    op.execute("UPDATE instances SET result = 'cancelled' WHERE status = 'cancelled'")


def downgrade() -> None:
    op.drop_index("ix_instances_park_result", table_name="instances")
    with op.batch_alter_table("instances") as batch:
        batch.drop_constraint("result", type_="check")
        batch.drop_column("result")
