"""External work: service tasks done by outside workers, and the park tokens those workers use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, JSONType, new_id, one_of, utcnow

# open: waiting for a worker (locked to one while ``lock_expires_at`` is ahead); failed: its
# worker reported a failure with no retries left, an incident; the others are final
EXTERNAL_TASK_STATUSES = ("open", "completed", "failed", "bpmn_error", "cancelled")


class ExternalTask(Base):
    """An external service task of an instance (``camunda:type="external"``), as workers see it.

    The id is the engine's task id. ``variables`` are what the task sees, fixed when it opened
    (SpiffWorkflow gives each task its own copy of the data). ``available_at`` holds a task
    back after a failure until its retry time.
    """

    __tablename__ = "external_tasks"
    __table_args__ = (
        one_of("status", EXTERNAL_TASK_STATUSES),
        # what fetch-and-lock walks: a park's open tasks of a topic, oldest first
        Index("ix_external_tasks_fetch", "park_id", "topic", "status", "available_at"),
        Index("ix_external_tasks_instance", "instance_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open")
    worker_id: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None]
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None until a worker first reports a failure and says how many retries are left
    retries: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<ExternalTask {self.id} {self.topic} {self.status}>"


class ServiceToken(Base):
    """A park's bearer token for external workers; only its hash is stored.

    It opens the external-task endpoints of its park, nothing else.
    """

    __tablename__ = "service_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
