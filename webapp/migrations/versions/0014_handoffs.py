"""Hand-offs and substitutes: 委派 and 加签 rows of a task, 代…办理, and the substitutions table.

A task's extra rows (a delegation, an added signature) are human tasks linked to the engine
task they belong to (``parent_id``, ``handoff_kind``: only ever added columns, so SQLite
keeps the table and its partial inbox index as they are); the engine task keeps what they wait
for in ``handoff``. ``on_behalf_of`` names whom a substitute holds a task for. Notifications
gain the kinds of the hand-offs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
# the kinds 0013 allows (the applicant's actions, and the hand-offs' first three)
OLD_KINDS = ("task_waiting", "returned", "due_soon", "overdue", "escalated", "completed",
             "transferred", "delegated", "signers_added", "urged", "cc", "withdrawn", "reminded")
NEW_KINDS = (*OLD_KINDS, "delegation_resolved")


def _kinds(kinds: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("handoff_kind", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("handoff", JSON_TYPE, nullable=True))
        batch.add_column(sa.Column("on_behalf_of", sa.String(length=64), nullable=True))
    op.create_index("ix_human_tasks_parent", "human_tasks", ["parent_id"])
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(NEW_KINDS))
    op.create_table(
        "substitutions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("substitute", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name="fk_substitutions_park_id_parks"),
        sa.PrimaryKeyConstraint("id", name="pk_substitutions"),
    )
    op.create_index(
        "ix_substitutions_park_user", "substitutions", ["park_id", "username", "ends_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_substitutions_park_user", table_name="substitutions")
    op.drop_table("substitutions")
    op.execute(sa.text("DELETE FROM notifications WHERE NOT ({})".format(_kinds(OLD_KINDS))))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(OLD_KINDS))
    op.drop_index("ix_human_tasks_parent", table_name="human_tasks")
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("on_behalf_of")
        batch.drop_column("handoff")
        batch.drop_column("handoff_kind")
        batch.drop_column("parent_id")
