"""免申即享: enterprise profiles, policies with their eligibility tables, and their offers.

Widens the notification kinds by ``policy_offer``.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db / webapp.models, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_KINDS = (
    "task_waiting", "returned", "due_soon", "overdue", "escalated", "completed",
    "transferred", "delegated", "delegation_resolved", "signers_added", "urged", "cc",
    "withdrawn", "reminded",
    # the 好差评 loop's (0017)
    "rating_invited", "rectification_opened", "rectified",
)
NEW_KINDS = (*OLD_KINDS, "policy_offer")


def _kinds(values: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    op.create_table(
        "enterprise_profiles",
        sa.Column("enterprise_id", sa.String(length=36), sa.ForeignKey("enterprises.id"),
                  primary_key=True),
        sa.Column("park_id", sa.String(length=36), sa.ForeignKey("parks.id"), nullable=False),
        sa.Column("tags", JSON_TYPE, nullable=False),
        sa.Column("facts", JSON_TYPE, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
    )
    op.create_index(op.f("ix_enterprise_profiles_park_id"), "enterprise_profiles", ["park_id"])
    op.create_table(
        "policies",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("park_id", sa.String(length=36), sa.ForeignKey("parks.id"), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("process_key", sa.String(length=255), nullable=False),
        sa.Column("eligibility", sa.Text(), nullable=False),
        sa.Column("decision_id", sa.String(length=255), nullable=False),
        sa.Column("prefill", JSON_TYPE, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("park_id", "key", name=op.f("uq_policies_park_id_key")),
    )
    op.create_table(
        "policy_offers",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("park_id", sa.String(length=36), sa.ForeignKey("parks.id"), nullable=False),
        sa.Column("policy_id", sa.String(length=36), sa.ForeignKey("policies.id"),
                  nullable=False),
        sa.Column("enterprise_id", sa.String(length=36), sa.ForeignKey("enterprises.id"),
                  nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("policy_revision", sa.Integer(), nullable=False),
        sa.Column("prefilled", JSON_TYPE, nullable=False),
        sa.Column("offered_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("instance_id", sa.String(length=36), sa.ForeignKey("instances.id"),
                  nullable=True),
        sa.CheckConstraint("status IN ('offered', 'confirmed', 'declined', 'withdrawn')",
                           name=op.f("ck_policy_offers_status")),
        sa.UniqueConstraint("policy_id", "enterprise_id",
                            name=op.f("uq_policy_offers_policy_id_enterprise_id")),
    )
    op.create_index("ix_policy_offers_enterprise", "policy_offers", ["enterprise_id", "status"])
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(NEW_KINDS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM notifications WHERE NOT ({})".format(_kinds(OLD_KINDS))))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notifications_kind"), _kinds(OLD_KINDS))
    op.drop_index("ix_policy_offers_enterprise", table_name="policy_offers")
    op.drop_table("policy_offers")
    op.drop_table("policies")
    op.drop_index(op.f("ix_enterprise_profiles_park_id"), table_name="enterprise_profiles")
    op.drop_table("enterprise_profiles")
