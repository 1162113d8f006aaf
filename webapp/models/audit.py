"""The append-only audit log and the remembered answers of idempotent requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from webapp.db import Base, BigIntId, JSONType, utcnow


class AppendOnlyError(Exception):
    """Something tried to change or remove an audit event."""


class AuditEvent(Base):
    """Who did what to what, and when; never updated or deleted.

    The migration backs the ORM guard below with a database trigger, so raw SQL is
    refused as well.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_park_at", "park_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # a username, or None for the system itself (timers, the worker)
    actor: Mapped[str | None] = mapped_column(String(64))
    # dotted verb such as "park.created" or "task.completed"
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    # bulk update()/delete() statements skip the per-object hooks above
    if (state.is_update or state.is_delete) and state.bind_mapper is AuditEvent.__mapper__:
        raise AppendOnlyError("audit events cannot be changed or deleted")


class IdempotencyKey(Base):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed on repeats."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    park_id: Mapped[str | None] = mapped_column(ForeignKey("parks.id"))
    # the same key sent with a different request body is an error, not a replay
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_body: Mapped[Any] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
