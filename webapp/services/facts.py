"""The facts the supervision figures read, written when an application ends.

The figures (``webapp.services.stats``) count working days between local days of the park:
the day an application was received and the day it ended, the day its promise ran out. Those
days are fixed once it has ended, so they are written then, with the instance row the step
writes anyway (no statement of their own), and its completed tasks' days with one UPDATE;
the figures group by the stored columns instead of computing a local day for every row.
They are the days ``stats.Days`` computes: a moment at or after the end of the working day
belongs to the next day for a receipt; an end on the last second of the working day still to
that day; the paused time (the clock stopped while the enterprise held the application)
taken off the end and the promise.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import WorkCalendar
from webapp.models import HumanTask, Instance, Park
from webapp.services.stats import Days

DAY = 86_400


def receipt_shift(calendar: WorkCalendar) -> int:
    """Seconds that move a moment at the end of the working day to the next day."""
    ends = calendar.day_ends
    return DAY - (ends.hour * 3600 + ends.minute * 60 + ends.second)


def local_day(moment: datetime, calendar: WorkCalendar, shift: int) -> date:
    """The local day of ``moment`` moved by ``shift`` seconds."""
    local = moment.astimezone(calendar.timezone).replace(tzinfo=None)
    return (local + timedelta(seconds=shift)).date()


def ended_days(values: dict[str, Any], calendar: WorkCalendar) -> dict[str, date | None]:
    """The stored days of an application that ended: ``receipt_day``, ``end_day`` and
    ``promise_day`` from its ``started_at``, ``ended_at``, ``promised_at`` and
    ``paused_seconds`` (a mapping of the instance row's values)."""
    shift = receipt_shift(calendar)
    paused = int(values.get("paused_seconds") or 0)
    promised = values.get("promised_at")
    return {
        "receipt_day": local_day(values["started_at"], calendar, shift),
        "end_day": local_day(values["ended_at"], calendar, shift - 1 - paused),
        "promise_day": (
            local_day(promised, calendar, shift - 1 - paused) if promised is not None else None
        ),
    }


def date_tasks(session: Session, instance: Instance, park: Park, calendar: WorkCalendar) -> None:
    """Store the days of the application's completed tasks: one UPDATE, as it ends."""
    days = Days(session, park, calendar)
    session.connection().execute(
        update(HumanTask)
        .where(HumanTask.instance_id == instance.id, HumanTask.status == "completed")
        .values(
            created_day=days.receipt(HumanTask.created_at),
            completed_day=days.end(HumanTask.completed_at),
        )
    )


__all__ = ["date_tasks", "ended_days", "local_day", "receipt_shift"]
