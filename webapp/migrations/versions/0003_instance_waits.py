"""Instances remember what they wait for, so a step that changes no wait touches no wait table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable: an instance stored before this revision syncs its waits on its next step
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("instances", sa.Column("waits", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("waits")
