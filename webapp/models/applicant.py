"""What the applicant and the readers of an application leave behind: copies (抄送), urges
(催办) and each person's common phrases (常用语)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, BigIntId, utcnow


class InstanceCopy(Base):
    """An application copied to one person (抄送): they may read it, never act on it."""

    __tablename__ = "instance_copies"
    __table_args__ = (
        UniqueConstraint("instance_id", "user_id"),
        # the person's 抄送我 list, newest first
        Index("ix_instance_copies_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # the reviewer or admin who copied it; None when the procedure's model did
    copied_by: Mapped[str | None] = mapped_column(String(64))
    # the user task whose camunda:properties ``cc`` copied it, when the model did
    element_id: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class Urge(Base):
    """One 催办 of one open task: its holders see how often and when they were urged."""

    __tablename__ = "urges"
    __table_args__ = (
        Index("ix_urges_instance_at", "instance_id", "at"),
        Index("ix_urges_task", "task_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)


class Phrase(Base):
    """A comment a person keeps at hand (常用语), beside the park-wide defaults."""

    __tablename__ = "phrases"
    __table_args__ = (Index("ix_phrases_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
