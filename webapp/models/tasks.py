"""Human tasks (the inbox) and the finished steps of each application."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, String, and_, or_, text
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, BigIntId, JSONType, one_of, utcnow
from webapp.models.instances import Instance

TASK_STATUSES = ("open", "completed", "cancelled")
# what an extra row of a task (``parent_id`` set) is: a delegation (委派) or a signature added
# before, after or beside its holder's (加签); see webapp.services.handoffs
HANDOFF_KINDS = ("delegate", "before", "after", "parallel")


def is_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    """Whether a task is overdue at ``now``: still open and past its due time.

    The one definition of overdue; ``HumanTask.overdue_at`` says the same in SQL."""
    return status == "open" and due_at is not None and due_at < now


def is_due_soon(status: str, due_at: datetime | None, follow_up_at: datetime | None,
                now: datetime) -> bool:
    """Whether an open task is due soon at ``now``: past its follow-up time, not yet overdue."""
    return (status == "open" and not is_overdue(status, due_at, now)
            and follow_up_at is not None and follow_up_at <= now)


def group_of(lane: str | None, candidate_groups: list[str] | None) -> str | None:
    """The group a task counts under: its lane, else its first candidate group."""
    if lane is not None:
        return lane
    return candidate_groups[0] if candidate_groups else None


def task_group_of(context: Any) -> str | None:
    """``group_name``'s default: from the row's lane and candidate groups."""
    values = context.get_current_parameters()
    return group_of(values.get("lane"), values.get("candidate_groups"))


class HumanTask(Base):
    """A user task of an instance; the open ones make up the reviewers' inbox.

    People are named by username here (``assignee``, ``candidate_users``,
    ``completed_by``), the same names the BPMN's camunda attributes use.
    """

    __tablename__ = "human_tasks"
    __table_args__ = (
        one_of("status", TASK_STATUSES),
        # the inbox: a park's open tasks in due order, the undated ones oldest first
        Index("ix_human_tasks_open_due", "park_id", "due_at", "created_at", "id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        # the inbox sorted by when tasks arrived (newest or longest waiting first) and by
        # priority (highest first, then newest; read backwards): a page stops after its rows
        Index(
            "ix_human_tasks_open_created",
            "park_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_human_tasks_open_priority",
            "park_id",
            "priority",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_human_tasks_assignee", "assignee", "status"),
        # an instance's open tasks, however many it has finished
        Index("ix_human_tasks_instance_status", "instance_id", "status"),
        # the extra rows (委派, 加签) of a task
        Index("ix_human_tasks_parent", "parent_id"),
        # the supervision figures per group (and a reviewer's groups)
        Index("ix_human_tasks_park_group", "park_id", "group_name"),
        # the supervision figures: the steps of the applications received in a range
        Index("ix_human_tasks_park_received", "park_id", "received_at"),
    )

    # the engine's task id, so that completing needs no lookup table
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    candidate_groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    candidate_users: Mapped[list[str]] = mapped_column(JSONType, default=list)
    assignee: Mapped[str | None] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(default=50)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # hand-offs (webapp.services.handoffs): an extra row names the engine task it belongs to
    # and what it is; the engine task keeps what its hand-offs wait for in ``handoff`` (None
    # for a task without any, so that its completion reads nothing more)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    handoff_kind: Mapped[str | None] = mapped_column(String(20))
    handoff: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # the user this task reached first, when their substitute (委托) holds it instead
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    # the group the supervision figures count the task under: its lane, else its first
    # candidate group (filled from those when not given)
    group_name: Mapped[str | None] = mapped_column(String(255), default=task_group_of)
    # the local days the figures count its working days between (as webapp.services.stats
    # computes them), written for its application's completed tasks when the application ends
    created_day: Mapped[date | None]
    completed_day: Mapped[date | None]
    # when its application was received (the instance's started_at, copied when the task is
    # made), so the figures find a range's steps without the applications' rows
    received_at: Mapped[datetime | None]

    instance: Mapped[Instance] = relationship()

    @hybrid_method
    def overdue_at(self, now: datetime) -> bool:
        """Whether the task is overdue at ``now`` (see ``is_overdue``)."""
        return is_overdue(self.status, self.due_at, now)

    @overdue_at.inplace.expression
    @classmethod
    def _overdue_at_sql(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.status == "open", cls.due_at.is_not(None), cls.due_at < now)

    @hybrid_method
    def due_soon_at(self, now: datetime) -> bool:
        """Whether the task is due soon at ``now`` (see ``is_due_soon``)."""
        return is_due_soon(self.status, self.due_at, self.follow_up_at, now)

    @due_soon_at.inplace.expression
    @classmethod
    def _due_soon_at_sql(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.status == "open", cls.follow_up_at <= now,
                    or_(cls.due_at.is_(None), cls.due_at >= now))

    def __repr__(self) -> str:
        return f"<HumanTask {self.element_id} {self.status}>"


class StepHistory(Base):
    """A finished step of an application, kept here so the serialized state stays small."""

    __tablename__ = "step_history"
    __table_args__ = (
        # an application's latest steps, and its steps page by page, in the order taken
        Index("ix_step_history_instance_order", "instance_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    # the BPMN element type, e.g. userTask, serviceTask, timer
    kind: Mapped[str] = mapped_column(String(40))
    lane: Mapped[str | None] = mapped_column(String(255))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
