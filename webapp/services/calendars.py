"""A park's working calendar as stored: its time zone plus its CalendarDay entries."""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from engine.calendars import DayKind, ParkCalendar
from webapp.models import CalendarDay, Park


def park_calendar(park: Park, session: Session | None = None) -> ParkCalendar:
    """The park's calendar, read with one small query of its own entries.

    ``session`` defaults to the one ``park`` was loaded in.
    """
    session = session or object_session(park)
    if session is None:
        raise ValueError(f"park {park.slug!r} is not attached to a session")
    return ParkCalendar(park.timezone, overrides=calendar_entries(session, park.id))


def calendar_entries(session: Session, park_id: str) -> dict[date, DayKind]:
    """The park's own workday and holiday entries."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)
                           .where(CalendarDay.park_id == park_id))
    return {day: cast(DayKind, kind) for day, kind in rows}


__all__ = ["calendar_entries", "park_calendar"]
