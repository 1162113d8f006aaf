"""Jobs get a dedupe key: one reminder per task and round, one delivery per event and recipient.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a nullable column and a unique index need no table rebuild on SQLite
    op.add_column("jobs", sa.Column("dedupe_key", sa.String(length=255), nullable=True))
    op.create_index("uq_jobs_dedupe_key", "jobs", ["dedupe_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_jobs_dedupe_key", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("dedupe_key")
