"""The 好差评 loop and the supervision figures at scale.

Ratings gain their online dimensions; a bad rating opens a rectification (整改) with its
follow-up (回访); notifications gain the loop's kinds. For the figures, applications gain
the local days they were received, ended and promised by (written when they end) and an
index on (park, received), tasks the group they count under, indexed with the park, and the
local days they were created and completed (written when their application ends) and when
their application was received, indexed with the park (filled here on both databases). Both
are filled here for the rows already there on PostgreSQL (SQLite counts the days of older
rows as before: the figures fall back to computing a day that is not stored).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
TIMESTAMP = sa.DateTime(timezone=True)
OLD_KINDS = (
    "task_waiting",
    "returned",
    "due_soon",
    "overdue",
    "escalated",
    "completed",
    "transferred",
    "delegated",
    "delegation_resolved",
    "signers_added",
    "urged",
    "cc",
    "withdrawn",
    "reminded",
)
NEW_KINDS = (*OLD_KINDS, "rating_invited", "rectification_opened", "rectified")

# a moment's local day in its park, shifted as webapp.services.stats counts: at or after the
# end of the working day (the park setting working_day_ends, 17:30 unless set) the next day
# for a receipt; an end at that very second still the same day
_SHIFT = """(86400 - extract(epoch FROM COALESCE(
    NULLIF(p.settings->>'working_day_ends', '')::time, TIME '17:30'))::int)"""
BACKFILL_DAYS = f"""
UPDATE instances AS i SET
  receipt_day = CAST(timezone(p.timezone, i.started_at)
                     + make_interval(secs => {_SHIFT}) AS date),
  end_day = CAST(timezone(p.timezone, i.ended_at)
                 + make_interval(secs => {_SHIFT} - 1 - i.paused_seconds) AS date),
  promise_day = CAST(timezone(p.timezone, i.promised_at)
                     + make_interval(secs => {_SHIFT} - 1 - i.paused_seconds) AS date)
FROM parks AS p
WHERE p.id = i.park_id AND i.ended_at IS NOT NULL
"""
BACKFILL_TASK_DAYS = f"""
UPDATE human_tasks AS t SET
  created_day = CAST(timezone(p.timezone, t.created_at)
                     + make_interval(secs => {_SHIFT}) AS date),
  completed_day = CAST(timezone(p.timezone, t.completed_at)
                       + make_interval(secs => {_SHIFT} - 1) AS date)
FROM instances AS i, parks AS p
WHERE i.id = t.instance_id AND p.id = t.park_id AND i.ended_at IS NOT NULL
  AND t.status = 'completed'
"""
BACKFILL_RECEIVED = """
UPDATE human_tasks SET received_at = (
  SELECT started_at FROM instances WHERE instances.id = human_tasks.instance_id)
"""
BACKFILL_GROUPS = {
    "postgresql": "UPDATE human_tasks SET group_name = COALESCE(lane, candidate_groups->>0)",
    "sqlite": "UPDATE human_tasks SET group_name = COALESCE(lane, "
    "json_extract(candidate_groups, '$[0]'))",
}


def _kinds(kinds: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("dimensions", JSON_TYPE, nullable=True))
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("receipt_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("end_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("promise_day", sa.Date(), nullable=True))
    op.create_index("ix_instances_park_started", "instances", ["park_id", "started_at"])
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("group_name", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("created_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("completed_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("received_at", TIMESTAMP, nullable=True))
    if dialect in BACKFILL_GROUPS:
        op.execute(sa.text(BACKFILL_GROUPS[dialect]))
    op.execute(sa.text(BACKFILL_RECEIVED))
    op.create_index("ix_human_tasks_park_received", "human_tasks", ["park_id", "received_at"])
    if dialect == "postgresql":
        op.execute(sa.text(BACKFILL_DAYS))
        op.execute(sa.text(BACKFILL_TASK_DAYS))
    op.create_index("ix_human_tasks_park_group", "human_tasks", ["park_id", "group_name"])
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(NEW_KINDS))
    op.create_table(
        "rectifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_group", sa.String(length=255), nullable=True),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("rectified_by", sa.String(length=64), nullable=True),
        sa.Column("rectified_at", TIMESTAMP, nullable=True),
        sa.Column("follow_up", sa.Text(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("followed_up_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'rectified', 'closed')", name=op.f("ck_rectifications_status")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_rectifications_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_rectifications_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_rectifications_instance_id")),
    )
    op.create_index(
        "ix_rectifications_park_status_due", "rectifications", ["park_id", "status", "due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_rectifications_park_status_due", table_name="rectifications")
    op.drop_table("rectifications")
    op.execute(sa.text("DELETE FROM notifications WHERE NOT ({})".format(_kinds(OLD_KINDS))))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(OLD_KINDS))
    op.drop_index("ix_human_tasks_park_group", table_name="human_tasks")
    op.drop_index("ix_human_tasks_park_received", table_name="human_tasks")
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("received_at")
        batch.drop_column("completed_day")
        batch.drop_column("created_day")
        batch.drop_column("group_name")
    op.drop_index("ix_instances_park_started", table_name="instances")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("promise_day")
        batch.drop_column("end_day")
        batch.drop_column("receipt_day")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("dimensions")
