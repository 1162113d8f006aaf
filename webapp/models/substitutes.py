"""Substitutes (委托/代理): who takes a user's tasks while they are away."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, new_id, utcnow


class Substitution(Base):
    """``substitute`` takes the tasks that reach ``username`` in one park from ``starts_at``
    until ``ends_at``; ended early when ``ended_at`` is set (never deleted: the timeline
    names whom a step was done for)."""

    __tablename__ = "substitutions"
    __table_args__ = (
        # the substitutes of the people a new task names, at the moment it opens
        Index("ix_substitutions_park_user", "park_id", "username", "ends_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    username: Mapped[str] = mapped_column(String(64))
    substitute: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(64))

    def active_at(self, now: datetime) -> bool:
        """Whether the substitute takes the user's tasks at ``now``."""
        return self.ended_at is None and self.starts_at <= now < self.ends_at

    def __repr__(self) -> str:
        return f"<Substitution {self.username}->{self.substitute}>"
