"""Drafts of the browser modeler: a diagram saved as it is drawn, per administrator.

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "modeller_drafts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_modeller_drafts_park_id_parks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_modeller_drafts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modeller_drafts")),
        sa.UniqueConstraint(
            "park_id", "user_id", "target", name=op.f("uq_modeller_drafts_park_id_user_id_target")
        ),
    )


def downgrade() -> None:
    op.drop_table("modeller_drafts")
