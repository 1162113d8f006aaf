"""Running applications: the instance row, its reference numbers, waits, files and rating."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from webapp.db import Base, BigIntId, JSONType, new_id, one_of, utcnow
from webapp.models.definitions import ProcessDefinition
from webapp.models.tenancy import Enterprise, Park

INSTANCE_STATUSES = ("active", "completed", "cancelled", "error")
# how an ended application ended: the model's end event says approved, rejected or withdrawn;
# a cancellation is cancelled
INSTANCE_RESULTS = ("approved", "rejected", "withdrawn", "cancelled")
# what an open application waits for, beyond its status (not stored: read from its open tasks)
STATUS_DETAILS = ("with_applicant",)


class Instance(Base):
    """One application: the serialized workflow plus what lists and views need."""

    __tablename__ = "instances"
    __table_args__ = (
        UniqueConstraint("park_id", "reference"),
        one_of("status", INSTANCE_STATUSES),
        one_of("result", INSTANCE_RESULTS),
        Index("ix_instances_park_status", "park_id", "status"),
        Index("ix_instances_park_result", "park_id", "result"),
        # the supervision figures: a park's applications received in a range
        Index("ix_instances_park_started", "park_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definitions.id"))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # empty while the application is open (and when its end event declares no result)
    result: Mapped[str | None] = mapped_column(String(20))
    # the workflow serialized without its spec (JSON bytes)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    data_summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    correlations: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # the timers and messages it waits for, as last written to jobs and message_waits
    waits: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column()
    started_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    promised_at: Mapped[datetime | None]
    # time spent waiting on the enterprise (corrections) does not count against the promise
    paused_seconds: Mapped[int] = mapped_column(default=0)
    # the local days the supervision figures count working days between (webapp.services.
    # stats), written when the application ends: the day it was received, the day it ended
    # and the day its promise ran out (both less the paused time); empty while open
    receipt_day: Mapped[date | None]
    end_day: Mapped[date | None]
    promise_day: Mapped[date | None]

    park: Mapped[Park] = relationship()
    definition: Mapped[ProcessDefinition] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()

    # every UPDATE checks and bumps the version: a stale copy raises StaleDataError
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Instance {self.reference} {self.status}>"


class RefCounter(Base):
    """The last reference number handed out in a park for one year."""

    __tablename__ = "ref_counters"

    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


def allocate_reference(session: Session, park: Park, year: int) -> str:
    """Take the park's next reference number for ``year``, like ``DEMO-2026-000123``.

    One atomic upsert, so concurrent starts never share a number; the number is held by
    the caller's transaction and is lost (leaving a gap) only if that transaction fails.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(RefCounter)
        .values(park_id=park.id, year=year, last=1)
        .on_conflict_do_update(
            index_elements=[RefCounter.park_id, RefCounter.year],
            set_={"last": RefCounter.last + 1},
        )
        .returning(RefCounter.last)
    )
    number = session.execute(stmt).scalar_one()
    prefix = park.settings.get("reference_prefix") or park.slug.upper()
    return f"{prefix}-{year}-{number:06d}"


class MessageWait(Base):
    """An instance waiting for a BPMN message; message delivery finds instances here."""

    __tablename__ = "message_waits"
    __table_args__ = (
        Index("ix_message_waits_lookup", "park_id", "message_name", "correlation_key"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    message_name: Mapped[str] = mapped_column(String(255))
    correlation_key: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """An uploaded file; the bytes live under the instance folder, named by ``storage_path``."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # empty while the enterprise is still filling in its application
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id"), index=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    """The enterprise's grade of a finished application (好差评), one per instance."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade"),)

    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"), primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), index=True)
    grade: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the online dimensions of 好差评 (webapp.services.ratings.DIMENSIONS), each graded 1–5
    dimensions: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
