"""Holiday schedules: the statutory schedule of a year, imported per park.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "holiday_schedules",
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("days", JSON_TYPE, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=True),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("source IN ('pasted', 'ics')", name=op.f("ck_holiday_schedules_source")),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_holiday_schedules_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("park_id", "year", name=op.f("pk_holiday_schedules")),
    )


def downgrade() -> None:
    op.drop_table("holiday_schedules")
