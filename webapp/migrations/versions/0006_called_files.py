"""A process definition keeps the other BPMN files of its deployment that its calls reach.

A call activity to a process in another file of the same deployment passed deploy, then every
start failed: the stored version held its own file only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    # versions deployed before called no other file
    op.add_column("process_definitions", sa.Column("called_bpmn_xml", JSON_TYPE, nullable=False,
                                                   server_default="[]"))


def downgrade() -> None:
    op.drop_column("process_definitions", "called_bpmn_xml")
