"""A park's working calendar as stored: its time zone plus its CalendarDay entries."""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, object_session

from engine.calendars import DayKind, ParkCalendar
from webapp.models import CalendarDay, Park

_CACHE_KEY = "parkflow_calendars"
_ENTRIES = select(CalendarDay.day, CalendarDay.kind).where(
    CalendarDay.park_id == bindparam("park_id"))


def park_calendar(park: Park, session: Session | None = None) -> ParkCalendar:
    """The park's calendar, read with one small query of its own entries per transaction.

    ``session`` defaults to the one ``park`` was loaded in. Within one transaction the
    calendar is read once; ``forget_calendar`` drops it after the entries change.
    """
    session = session or object_session(park)
    if session is None:
        raise ValueError(f"park {park.slug!r} is not attached to a session")
    cached: dict[tuple[str, str], ParkCalendar] = session.info.setdefault(_CACHE_KEY, {})
    key = (park.id, park.timezone)
    if key not in cached:
        cached[key] = ParkCalendar(park.timezone, overrides=calendar_entries(session, park.id))
    return cached[key]


def forget_calendar(session: Session) -> None:
    """Drop the calendars read in this session (after a change of the park's entries)."""
    session.info.pop(_CACHE_KEY, None)


def calendar_entries(session: Session, park_id: str) -> dict[date, DayKind]:
    """The park's own workday and holiday entries."""
    rows = session.execute(_ENTRIES, {"park_id": park_id})
    return {day: cast(DayKind, kind) for day, kind in rows}


__all__ = ["calendar_entries", "forget_calendar", "park_calendar"]
