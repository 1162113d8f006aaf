"""The applicant's and the reader's side of an application: copies (抄送), urges (催办) and
common phrases (常用语); notifications of the approval actions.

The notification kinds are checked against a fixed list: this revision widens it to every kind
the approval actions announce (transferred, delegated, signers_added, urged, cc, withdrawn,
reminded), so that whichever of their revisions runs last leaves all of them allowed.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.models, so this file never changes
OLD_KINDS = ("task_waiting", "returned", "due_soon", "overdue", "escalated", "completed")
NEW_KINDS = (
    *OLD_KINDS,
    "transferred",
    "delegated",
    "signers_added",
    "urged",
    "cc",
    "withdrawn",
    "reminded",
)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _kinds(values: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    op.create_table(
        "instance_copies",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("copied_by", sa.String(length=64), nullable=True),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name="fk_instance_copies_park_id_parks"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name="fk_instance_copies_instance_id_instances"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_instance_copies_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_instance_copies"),
        sa.UniqueConstraint(
            "instance_id", "user_id", name="uq_instance_copies_instance_id_user_id"
        ),
    )
    op.create_index("ix_instance_copies_user_at", "instance_copies", ["user_id", "at"])
    op.create_table(
        "urges",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name="fk_urges_park_id_parks"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name="fk_urges_instance_id_instances"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_urges"),
    )
    op.create_index("ix_urges_instance_at", "urges", ["instance_id", "at"])
    op.create_index("ix_urges_task", "urges", ["task_id"])
    op.create_table(
        "phrases",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_phrases_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_phrases"),
    )
    op.create_index("ix_phrases_user", "phrases", ["user_id", "id"])
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(NEW_KINDS))


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE " + "NOT " + _kinds(OLD_KINDS))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(OLD_KINDS))
    op.drop_index("ix_phrases_user", table_name="phrases")
    op.drop_table("phrases")
    op.drop_index("ix_urges_task", table_name="urges")
    op.drop_index("ix_urges_instance_at", table_name="urges")
    op.drop_table("urges")
    op.drop_index("ix_instance_copies_user_at", table_name="instance_copies")
    op.drop_table("instance_copies")
