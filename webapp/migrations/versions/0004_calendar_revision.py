"""Parks count the changes of their calendar, so that processes can keep the calendar built.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("parks", sa.Column("calendar_revision", sa.Integer(), nullable=False,
                                     server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("parks") as batch:
        batch.drop_column("calendar_revision")
