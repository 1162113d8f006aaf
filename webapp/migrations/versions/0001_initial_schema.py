"""Initial schema: parks, people, definitions, instances, tasks, jobs, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# spelled out here rather than imported from webapp.db, so this file never changes
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
TIMESTAMP = sa.DateTime(timezone=True)
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY_MESSAGE = "audit events are append-only"
# A batch migration on SQLite rebuilds a table and drops its triggers: a later
# migration that batch-alters audit_events must create these again.
SQLITE_AUDIT_TRIGGERS = [
    f"""
    CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END
    """
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_AUDIT_TRIGGERS = [
    f"""
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE} (% refused)', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
]


def upgrade() -> None:
    op.create_table(
        "parks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("settings", JSON_TYPE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parks")),
        sa.UniqueConstraint("slug", name=op.f("uq_parks_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "calendar_days",
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.CheckConstraint("kind IN ('workday', 'holiday')", name=op.f("ck_calendar_days_kind")),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_calendar_days_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("park_id", "day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "enterprises",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_enterprises_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("park_id", "name", name=op.f("uq_enterprises_park_id_name")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_groups_park_id_parks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("park_id", "name", name=op.f("uq_groups_park_id_name")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", JSON_TYPE, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_idempotency_keys_park_id_parks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])
    op.create_table(
        "process_definitions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("dmn_xml", JSON_TYPE, nullable=False),
        sa.Column("forms", JSON_TYPE, nullable=False),
        sa.Column("promised_duration", sa.String(length=40), nullable=True),
        sa.Column("deployed_by", sa.String(length=36), nullable=True),
        sa.Column("deployed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["deployed_by"], ["users.id"], name=op.f("fk_process_definitions_deployed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_process_definitions_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint(
            "park_id", "key", "version", name=op.f("uq_process_definitions_park_id_key_version")
        ),
    )
    op.create_index(
        "ix_process_definitions_content", "process_definitions", ["park_id", "key", "content_hash"]
    )
    op.create_table(
        "ref_counters",
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_ref_counters_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("park_id", "year", name=op.f("pk_ref_counters")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_group_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_user_id"), "group_members", ["user_id"])
    op.create_table(
        "instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.String(length=36), nullable=False),
        sa.Column("enterprise_id", sa.String(length=36), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("data_summary", JSON_TYPE, nullable=False),
        sa.Column("error", JSON_TYPE, nullable=True),
        sa.Column("correlations", JSON_TYPE, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=36), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("promised_at", TIMESTAMP, nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'cancelled', 'error')",
            name=op.f("ck_instances_status"),
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_instances_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_instances_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_instances_park_id_parks")),
        sa.ForeignKeyConstraint(
            ["started_by"], ["users.id"], name=op.f("fk_instances_started_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sa.UniqueConstraint("park_id", "reference", name=op.f("uq_instances_park_id_reference")),
    )
    op.create_index(op.f("ix_instances_enterprise_id"), "instances", ["enterprise_id"])
    op.create_index("ix_instances_park_status", "instances", ["park_id", "status"])
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("enterprise_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint(
            "(role = 'enterprise') = (enterprise_id IS NOT NULL)",
            name=op.f("ck_memberships_enterprise_role"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'reviewer', 'enterprise')", name=op.f("ck_memberships_role")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_memberships_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_memberships_park_id_parks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "park_id", name=op.f("pk_memberships")),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=500), nullable=False),
        sa.Column("uploaded_by", sa.String(length=36), nullable=True),
        sa.Column("uploaded_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_attachments_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_attachments_park_id_parks")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_attachments_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_instance_id"), "attachments", ["instance_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("details", JSON_TYPE, nullable=False),
        sa.Column("before", JSON_TYPE, nullable=True),
        sa.Column("after", JSON_TYPE, nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_audit_events_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_audit_events_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_instance_id"), "audit_events", ["instance_id"])
    op.create_index("ix_audit_events_park_at", "audit_events", ["park_id", "at"])
    op.create_table(
        "human_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("lane", sa.String(length=255), nullable=True),
        sa.Column("candidate_groups", JSON_TYPE, nullable=False),
        sa.Column("candidate_users", JSON_TYPE, nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("form_key", sa.String(length=255), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=True),
        sa.Column("follow_up_at", TIMESTAMP, nullable=True),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("completed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'completed', 'cancelled')", name=op.f("ck_human_tasks_status")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_human_tasks_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_human_tasks_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_tasks")),
    )
    op.create_index("ix_human_tasks_assignee", "human_tasks", ["assignee", "status"])
    op.create_index("ix_human_tasks_inbox", "human_tasks", ["park_id", "status", "due_at"])
    op.create_index(op.f("ix_human_tasks_instance_id"), "human_tasks", ["instance_id"])
    op.create_table(
        "jobs",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name=op.f("ck_jobs_status")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_jobs_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_jobs_park_id_parks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_due", "jobs", ["status", "due_at"])
    op.create_index(op.f("ix_jobs_instance_id"), "jobs", ["instance_id"])
    op.create_table(
        "message_waits",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("message_name", sa.String(length=255), nullable=False),
        sa.Column("correlation_key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_message_waits_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_message_waits_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_waits")),
    )
    op.create_index(op.f("ix_message_waits_instance_id"), "message_waits", ["instance_id"])
    op.create_index(
        "ix_message_waits_lookup", "message_waits", ["park_id", "message_name", "correlation_key"]
    )
    op.create_table(
        "notifications",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("read_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "kind IN ('task_waiting', 'returned', 'due_soon', 'overdue', 'escalated', 'completed')",
            name=op.f("ck_notifications_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_notifications_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_notifications_park_id_parks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_user", "notifications", ["user_id", "read_at", "at"])
    op.create_table(
        "ratings",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("park_id", sa.String(length=36), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_by", sa.String(length=36), nullable=True),
        sa.Column("rated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_ratings_grade")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_ratings_instance_id_instances")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_ratings_park_id_parks")),
        sa.ForeignKeyConstraint(["rated_by"], ["users.id"], name=op.f("fk_ratings_rated_by_users")),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_ratings")),
    )
    op.create_index(op.f("ix_ratings_park_id"), "ratings", ["park_id"])
    op.create_table(
        "step_history",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("lane", sa.String(length=255), nullable=True),
        sa.Column("completed_at", TIMESTAMP, nullable=False),
        sa.Column("completed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("data", JSON_TYPE, nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_step_history_instance_id_instances")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_history")),
    )
    op.create_index(op.f("ix_step_history_instance_id"), "step_history", ["instance_id"])
    _create_audit_triggers()


def _create_audit_triggers() -> None:
    """Refuse UPDATE and DELETE of audit events in the database itself."""
    dialect = op.get_context().dialect.name
    statements = POSTGRESQL_AUDIT_TRIGGERS if dialect == "postgresql" else SQLITE_AUDIT_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("step_history")
    op.drop_table("ratings")
    op.drop_table("notifications")
    op.drop_table("message_waits")
    op.drop_table("jobs")
    op.drop_table("human_tasks")
    op.drop_table("audit_events")
    op.drop_table("attachments")
    op.drop_table("memberships")
    op.drop_table("instances")
    op.drop_table("group_members")
    op.drop_table("ref_counters")
    op.drop_table("process_definitions")
    op.drop_table("idempotency_keys")
    op.drop_table("groups")
    op.drop_table("enterprises")
    op.drop_table("calendar_days")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("parks")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")
