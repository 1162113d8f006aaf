"""When an open application will probably finish, from the park's own history.

An application waits at one or more open steps. For each, the park's finished applications
of the same procedure version tell two things: how long that step usually takes (from the
moment its task opened to its completion) and how long the rest of the way usually takes
(from its completion to the application's end), both in working days of the park's
calendar. The prediction is the later, over the open steps, of

    now + max(median step time − working days the step has already waited, 0)
        + median rest of the way

rounded to a whole working day and read as the end of that working day, like a promise.
Medians, because one application stuck for a month must not move every prediction.

Below ``MIN_HISTORY`` finished applications that passed the step there is no prediction: a
guess from two cases would read as a promise. The figures per (procedure version, step) are
computed by one query over the latest ``SAMPLE`` such applications and kept for
``KEEP_SECONDS`` in each process, so a completion's answer pays no query for them.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cachetools import TTLCache
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import WorkCalendar, end_of_working_days
from webapp.models import HumanTask, Instance
from webapp.services.calendars import park_calendar

MIN_HISTORY = 5
SAMPLE = 200
KEEP_SECONDS = 600
_DAY = timedelta(days=1)
# a step or an application that took longer than this many calendar days says nothing of
# the usual time and is not walked day by day
_LONGEST_DAYS = 3660


@dataclass(frozen=True)
class StepFigures:
    """What the park's history says of one step of one procedure version."""

    count: int
    since: datetime | None
    step_days: float
    rest_days: float


@dataclass(frozen=True)
class Prediction:
    """The predicted end of an application and what it rests on."""

    at: datetime
    count: int
    since: datetime


_figures: TTLCache[tuple[str, str, str], StepFigures] = TTLCache(maxsize=8192, ttl=KEEP_SECONDS)
_lock = threading.Lock()


def forget() -> None:
    """Drop the kept figures (tests build new histories)."""
    with _lock:
        _figures.clear()


def working_days_between(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """The working days from ``start`` to ``end``: whole working days, and the covered share
    of the first and last ones (by the clock, a day being 24 hours)."""
    if end <= start:
        return 0.0
    zone = calendar.timezone
    first, last = start.astimezone(zone), end.astimezone(zone)
    if (last.date() - first.date()).days > _LONGEST_DAYS:
        return float((last.date() - first.date()).days)
    total = 0.0
    day: date = first.date()
    while day <= last.date():
        if calendar.is_working_day(day):
            opens = datetime.combine(day, datetime.min.time(), zone)
            begin = max(first, opens)
            finish = min(last, opens + _DAY)
            if finish > begin:
                total += (finish - begin) / _DAY
        day += _DAY
    return total


def figures(session: Session, instance: Instance, element_id: str) -> StepFigures:
    """The park's figures for one step of the application's procedure version (kept)."""
    key = (instance.park_id, instance.definition_id, element_id)
    with _lock:
        found = _figures.get(key)
    if found is not None:
        return found
    calendar = park_calendar(instance.park, session)
    # the latest finished applications of the version first (bounded), then their tasks at
    # the step: however many the park has finished, one sample is read
    recent = (
        select(Instance.id, Instance.ended_at, Instance.started_at)
        .where(
            Instance.park_id == instance.park_id,
            Instance.status == "completed",
            Instance.definition_id == instance.definition_id,
            Instance.ended_at.is_not(None),
        )
        .order_by(Instance.ended_at.desc())
        .limit(SAMPLE)
        .subquery()
    )
    rows = session.execute(
        select(
            func.min(HumanTask.created_at),
            func.max(HumanTask.completed_at),
            recent.c.ended_at,
            recent.c.started_at,
        )
        .join(recent, recent.c.id == HumanTask.instance_id)
        .where(HumanTask.element_id == element_id, HumanTask.status == "completed")
        .group_by(HumanTask.instance_id, recent.c.ended_at, recent.c.started_at)
    ).all()
    steps, rests, starts = [], [], []
    for opened, done, ended, started in rows:
        opened, done, ended = _aware(opened), _aware(done), _aware(ended)
        starts.append(_aware(started))
        steps.append(working_days_between(opened, done, calendar))
        rests.append(working_days_between(done, ended, calendar))
    found = StepFigures(
        count=len(rows),
        since=min(starts, default=None),
        step_days=statistics.median(steps) if steps else 0.0,
        rest_days=statistics.median(rests) if rests else 0.0,
    )
    with _lock:
        _figures[key] = found
    return found


def predict(
    session: Session,
    instance: Instance,
    open_steps: Iterable[tuple[str, datetime]],
    now: datetime | None = None,
) -> Prediction | None:
    """The predicted end of an open application from its open steps (element id, opened at),
    or None without enough history (or nothing open to predict from)."""
    if instance.status != "active":
        return None
    when = now or datetime.now(UTC)
    calendar = park_calendar(instance.park, session)
    best: Prediction | None = None
    for element_id, opened in open_steps:
        known = figures(session, instance, element_id)
        if known.count < MIN_HISTORY or known.since is None:
            return None  # one step without history makes the whole guess a guess
        waited = working_days_between(_aware(opened), when, calendar)
        days = max(known.step_days - waited, 0.0) + known.rest_days
        at = end_of_working_days(when, max(0, math.floor(days + 0.5)), calendar)
        if best is None or at > best.at:
            best = Prediction(at=at, count=known.count, since=known.since)
    return best


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
