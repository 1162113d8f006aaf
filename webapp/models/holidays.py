"""The statutory holiday schedules a park imported, one row per year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, JSONType, one_of, utcnow

SCHEDULE_SOURCES = ("pasted", "ics")


class HolidaySchedule(Base):
    """The State Council's schedule of one year as the park imported it.

    ``days`` maps ISO dates to ``holiday`` or ``workday`` (a 调休 make-up workday); a day may
    lie in the year before (a 元旦 break starting on 31 December). In that year the calendar
    follows the schedule and the weekend for every day it does not name.
    """

    __tablename__ = "holiday_schedules"
    __table_args__ = (one_of("source", SCHEDULE_SOURCES),)

    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    days: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    source: Mapped[str] = mapped_column(String(10))
    imported_by: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
