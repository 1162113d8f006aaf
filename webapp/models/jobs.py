"""Work for the background worker (timers, reminders, deliveries) and in-app notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, BigIntId, JSONType, one_of, utcnow

JOB_STATUSES = ("pending", "done", "failed")
NOTIFICATION_KINDS = ("task_waiting", "returned", "due_soon", "overdue", "escalated", "completed",
                      # the approval actions (issue 21): every kind the shared list names
                      "transferred", "delegated", "delegation_resolved", "signers_added",
                      "urged", "cc", "withdrawn", "reminded",
                      # 免申即享: a policy found the enterprise
                      "policy_offer",
                      # the 好差评 loop (issue 22): the invitation to rate, a rectification
                      # opened for the park, and its outcome told to the enterprise
                      "rating_invited", "rectification_opened", "rectified")


class Job(Base):
    """Something to do at ``due_at``: a timer, reminder, escalation or outbox delivery."""

    __tablename__ = "jobs"
    __table_args__ = (
        one_of("status", JOB_STATUSES),
        Index("ix_jobs_due", "status", "due_at"),
        # an instance's pending jobs of one kind, however many finished ones it has
        Index("ix_jobs_instance_kind_status", "instance_id", "kind", "status"),
        # NULL for timers; several NULLs never collide
        Index("uq_jobs_dedupe_key", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id"))
    # 'timer', 'reminder', 'escalation', 'notify', ...: handlers are looked up by kind
    kind: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # e.g. 'reminder:<task>' or 'notify:<event>:email:<user>': the same work is queued once
    dedupe_key: Mapped[str | None] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"


class Notification(Base):
    """An in-app message to one user."""

    __tablename__ = "notifications"
    __table_args__ = (
        one_of("kind", NOTIFICATION_KINDS),
        Index("ix_notifications_user", "user_id", "read_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    read_at: Mapped[datetime | None]
