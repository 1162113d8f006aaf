"""The rectification (整改) a bad rating opens for the park, and its follow-up (回访)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, new_id, one_of, utcnow
from webapp.models.instances import Instance

# open: waits for the park's measures; rectified: measures recorded, the follow-up (回访)
# with the enterprise is due; closed: followed up, the enterprise told the outcome
RECTIFICATION_STATUSES = ("open", "rectified", "closed")


class Rectification(Base):
    """One bad rating's rectification task, due a number of working days after the rating."""

    __tablename__ = "rectifications"
    __table_args__ = (
        one_of("status", RECTIFICATION_STATUSES),
        # a park's list: the unfinished ones by due date
        Index("ix_rectifications_park_status_due", "park_id", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    # one rating per application, one rectification per rating
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"), unique=True)
    grade: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(20), default="open")
    # the group that handles it (the park setting rectification_group), else the park's admins
    assignee_group: Mapped[str | None] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    measures: Mapped[str | None] = mapped_column(Text)
    rectified_by: Mapped[str | None] = mapped_column(String(64))
    rectified_at: Mapped[datetime | None]
    # the 回访: what the enterprise answered, and whether it accepts the rectification
    follow_up: Mapped[str | None] = mapped_column(Text)
    accepted: Mapped[bool | None]
    followed_up_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]

    instance: Mapped[Instance] = relationship()

    def overdue_at(self, now: datetime) -> bool:
        """Whether it is past its due time and the loop is not closed yet."""
        return self.status != "closed" and self.due_at < now

    def __repr__(self) -> str:
        return f"<Rectification {self.instance_id} {self.status}>"
