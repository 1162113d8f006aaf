"""A park's working calendar as stored: its time zone, its CalendarDay entries, the statutory
schedules it imported (HolidaySchedule) and the time its working day ends (the park setting
``working_day_ends``, "HH:MM", 17:30 unless set).

Every step of every application needs the calendar (due dates, reminders), so each process
keeps the calendars it built, keyed by the park's ``calendar_revision``. Whatever changes a
park's entries or time zone calls ``calendar_changed`` in the same transaction; the raised
revision makes every process read the entries afresh on its next use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, time
from typing import cast

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, object_session

from engine import DEFAULT_DAY_END
from engine.calendars import DayKind, ParkCalendar
from webapp.models import CalendarDay, HolidaySchedule, Park

_ENTRIES = select(CalendarDay.day, CalendarDay.kind).where(
    CalendarDay.park_id == bindparam("park_id"))
_SCHEDULES = select(HolidaySchedule.year, HolidaySchedule.days).where(
    HolidaySchedule.park_id == bindparam("park_id"))
_lock = threading.Lock()
_built: OrderedDict[tuple[str, str, int, time], ParkCalendar] = OrderedDict()
MAX_CALENDARS = 256
DAY_END_SETTING = "working_day_ends"


def park_calendar(park: Park, session: Session | None = None) -> ParkCalendar:
    """The park's calendar at its current revision; the entries are read once per revision.

    ``session`` (default: the one ``park`` was loaded in) reads the entries when needed.
    """
    key = (park.id, park.timezone, park.calendar_revision or 0, day_end_of(park))
    with _lock:
        found = _built.get(key)
    if found is not None:
        return found
    session = session or object_session(park)
    if session is None:
        raise ValueError(f"park {park.slug!r} is not attached to a session")
    calendar = ParkCalendar(park.timezone, overrides=calendar_entries(session, park.id),
                            day_ends=key[3], schedules=imported_schedules(session, park.id))
    with _lock:
        _built[key] = calendar
        while len(_built) > MAX_CALENDARS:
            _built.popitem(last=False)
    return calendar


def day_end_of(park: Park) -> time:
    """The local time the park's working day ends (17:30 when not set, or set unreadably)."""
    text = park.settings.get(DAY_END_SETTING)
    try:
        return time.fromisoformat(text) if isinstance(text, str) and text else DEFAULT_DAY_END
    except ValueError:
        return DEFAULT_DAY_END


def forget_calendars() -> None:
    """Drop every calendar built so far, for a process that moves to another database.

    The cache takes a park id for the same park wherever it is read; the tests break that,
    as their databases are copies of one template and share its park ids.
    """
    with _lock:
        _built.clear()


def calendar_changed(session: Session, park: Park) -> None:
    """Record that the park's entries or time zone changed (call it in the same transaction)."""
    park.calendar_revision = (park.calendar_revision or 0) + 1
    session.flush()


def calendar_entries(session: Session, park_id: str) -> dict[date, DayKind]:
    """The park's own workday and holiday entries."""
    rows = session.execute(_ENTRIES, {"park_id": park_id})
    return {day: cast(DayKind, kind) for day, kind in rows}


def imported_schedules(session: Session, park_id: str) -> dict[int, dict[date, DayKind]]:
    """The statutory schedules the park imported, by year (webapp/services/holidays.py)."""
    rows = session.execute(_SCHEDULES, {"park_id": park_id})
    return {year: {date.fromisoformat(day): cast(DayKind, kind) for day, kind in days.items()}
            for year, days in rows}


__all__ = ["DAY_END_SETTING", "calendar_changed", "calendar_entries", "day_end_of",
           "imported_schedules", "park_calendar"]
