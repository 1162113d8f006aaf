"""Supervision figures of a park: on-time rate, overdue cases, working days, steps, groups.

Everything is counted by aggregate SQL over the park's instances, tasks and ratings; no row
of an application is read into Python. Which applications count (the *population*):

* the park's applications received in the range ``date_from``..``date_to`` (local dates of
  ``started_at``, both days included; either end may be open), of the procedure
  ``process_key`` when given;
* for a reviewer only those with a step in one of the reviewer's groups (a step's group is
  its lane, else its first candidate group), and of their steps only those steps.

Definitions:

* *completed*: ended with status ``completed`` and a result other than ``withdrawn``;
* *on time*: completed no later than its ``promised_at`` (which the time with the applicant
  already moved later: the clock pauses); ``on_time_rate`` is over the completed
  applications that had a promise;
* *overdue open*: still open (active or in error) and past its promised date now;
* *working days* of a span from ``start`` to ``end``: the number of the park's working days
  from the day of receipt (the local day of ``start``; on or after the end of the working
  day, or on a non-working day, the next working day) up to the day of ``end`` (the local
  day; after the end of the working day the next day), that day not counted. Filed Monday
  09:00 and answered Thursday 11:00 is 3; the promise "3WD" (Thursday 17:30) is 3 as well.
  An application's own span runs from ``started_at`` to ``ended_at`` minus the paused time;
  its promise from ``started_at`` to ``promised_at`` minus the paused time.

Working days cannot be counted in SQL (the calendar is the park's), so the spans are counted
per local day in SQL (how many spans start, and how many end, on each day) and the calendar
is applied per day: the sum of the spans is the sum over end days of their count times the
working days before that day, less the same over the start days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from engine import WorkCalendar
from webapp.models import AuditEvent, HumanTask, Instance, Park, ProcessDefinition, Rating
from webapp.services.calendars import park_calendar
from webapp.services.errors import Forbidden, Invalid
from webapp.services.people import applicant_lanes

# grades of the national 好差评 scheme: 3 and above are satisfied, 1 and 2 are bad
SATISFIED_FROM = 3
BAD_UP_TO = 2
# the audit action that records a bad rating as rectified (差评整改)
RECTIFIED_ACTION = "rating.rectified"
OPEN_STATUSES = ("active", "error")
DAY = 86_400


@dataclass(frozen=True)
class Scope:
    """Whose figures: the whole park (``groups`` None) or a reviewer's groups."""

    park: Park
    groups: frozenset[str] | None = None


@dataclass(frozen=True)
class Filters:
    """The checked filters of a statistics or export request."""

    date_from: date | None
    date_to: date | None
    process_key: str | None
    # the procedure's versions in the park, when ``process_key`` was given
    definition_ids: tuple[str, ...] | None = None


def scope_for(park: Park, role: str, groups: Iterable[str]) -> Scope:
    """What a member of ``park`` in ``role`` may count: admins all, reviewers their groups."""
    if role == "admin":
        return Scope(park)
    if role == "reviewer":
        return Scope(park, frozenset(groups))
    raise Forbidden("the park's figures are for its administrators and reviewers")


def check_filters(
    session: Session,
    park: Park,
    *,
    date_from: date | None,
    date_to: date | None,
    process_key: str | None,
) -> Filters:
    """The filters, checked: ``from`` not after ``to``, the procedure one of the park's."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Invalid(
            f"“from” ({date_from.isoformat()}) is after “to” ({date_to.isoformat()})",
            details={"from": ["is after to"]},
        )
    ids = None
    if process_key is not None:
        ids = tuple(
            session.scalars(
                select(ProcessDefinition.id).where(
                    ProcessDefinition.park_id == park.id, ProcessDefinition.key == process_key
                )
            )
        )
        if not ids:
            raise Invalid(
                f"the park has no procedure {process_key!r}",
                details={"process_key": ["is not a procedure of this park"]},
            )
    return Filters(date_from, date_to, process_key, ids)


# --- conditions ------------------------------------------------------------------------------


def local_midnight(day: date, calendar: WorkCalendar) -> datetime:
    """The start of a local day of the park, in UTC."""
    return datetime.combine(day, time(0), calendar.timezone).astimezone(UTC)


def population(session: Session, scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions on ``Instance`` selecting the applications that count."""
    found: list[ColumnElement[bool]] = [Instance.park_id == scope.park.id]
    found += _received(session, scope, filters)
    if scope.groups is not None:
        step = aliased(HumanTask)
        found.append(
            exists(
                select(literal(1)).where(
                    step.instance_id == Instance.id,
                    step.park_id == scope.park.id,
                    _in_groups(session, scope.groups, step),
                )
            )
        )
    return found


def task_rows(session: Session, scope: Scope, filters: Filters) -> tuple[Any, list[Any]]:
    """The steps that count: a select from ``HumanTask`` (joined with ``Instance`` when the
    filters name days or a procedure) and its conditions.

    The same steps as ``task_conditions`` with ``population``, read more cheaply: a step in
    the reviewer's groups makes its own application one with a step there, and every step of
    the park belongs to an application of the park, so only the filters of the application
    need its row.
    """
    found: list[Any] = task_conditions(session, scope)
    # a task carries when its application was received (``received_at``, indexed); one
    # written without it is taken by its application's row
    in_range = _received(session, scope, replace(filters, definition_ids=None), HumanTask)
    if in_range:
        dated = select(Instance.id).where(
            Instance.park_id == scope.park.id,
            *_received(session, scope, replace(filters, definition_ids=None)),
        )
        found.append(
            or_(
                and_(*in_range),
                and_(HumanTask.received_at.is_(None), HumanTask.instance_id.in_(dated)),
            )
        )
    base = select().select_from(HumanTask)
    if filters.definition_ids is not None:
        base = base.join(Instance, Instance.id == HumanTask.instance_id)
        found += [Instance.park_id == scope.park.id, *_received(session, scope, filters)]
    return base, found


def _received(
    session: Session, scope: Scope, filters: Filters, table: Any = Instance
) -> list[ColumnElement[bool]]:
    """The conditions of the filters on ``Instance``: days of receipt, the procedure (on
    ``HumanTask``: its application's days of receipt)."""
    calendar = park_calendar(scope.park, session)
    moment = table.started_at if table is Instance else table.received_at
    found: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        found.append(moment >= local_midnight(filters.date_from, calendar))
    if filters.date_to is not None:
        found.append(moment < local_midnight(filters.date_to + timedelta(days=1), calendar))
    if filters.definition_ids is not None:
        found.append(Instance.definition_id.in_(filters.definition_ids))
    return found


def task_group(session: Session, task: Any = HumanTask) -> ColumnElement[str]:
    """A task's group in SQL: its lane, else its first candidate group (as stored in its
    indexed ``group_name``)."""
    found: ColumnElement[str] = task.group_name
    return found


def task_conditions(session: Session, scope: Scope) -> list[ColumnElement[bool]]:
    """The conditions on ``HumanTask`` selecting the steps that count (with ``population``)."""
    found: list[ColumnElement[bool]] = [HumanTask.park_id == scope.park.id]
    if scope.groups is not None:
        found.append(_in_groups(session, scope.groups))
    return found


def _in_groups(
    session: Session, groups: frozenset[str], task: Any = HumanTask
) -> ColumnElement[bool]:
    return task_group(session, task).in_(sorted(groups)) if groups else false()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# --- local days ------------------------------------------------------------------------------


class Days:
    """The SQL of a moment's local day in the park, shifted so that day ends count right."""

    def __init__(self, session: Session, park: Park, calendar: WorkCalendar) -> None:
        self.postgresql = _dialect(session) == "postgresql"
        self.zone = calendar.timezone.key
        ends = calendar.day_ends
        # moments at or after the end of the working day belong to the next day
        self.receipt_shift = DAY - (ends.hour * 3600 + ends.minute * 60 + ends.second)
        # SQLite knows no time zones: the zone's offset now (exact for zones without DST)
        offset = datetime.now(calendar.timezone).utcoffset() or timedelta(0)
        self.sqlite_offset = int(offset.total_seconds())

    def receipt(self, column: Any) -> ColumnElement[date]:
        """The day a span starting at ``column`` is received (before the working-day rule)."""
        return self._day(column, self.receipt_shift)

    def end(self, column: Any, paused: Any = None) -> ColumnElement[date]:
        """The day a span ending at ``column`` (less ``paused`` seconds) ends."""
        return self._day(column, self.receipt_shift - 1, paused)

    def _day(self, column: Any, shift: int, paused: Any = None) -> ColumnElement[date]:
        seconds: Any = literal(shift) if paused is None else literal(shift) - paused
        if self.postgresql:
            moved = func.timezone(self.zone, column) + func.make_interval(0, 0, 0, 0, 0, 0, seconds)
            return cast(moved, Date)
        text = func.printf("%+d seconds", seconds + self.sqlite_offset)
        return func.date(column, text)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class WorkingDays:
    """How many working days lie before each day, from the first day asked for."""

    def __init__(self, calendar: WorkCalendar, days: Iterable[date]) -> None:
        days = sorted(set(days))
        self.before: dict[date, int] = {}
        if not days:
            return
        count, day = 0, days[0]
        while day <= days[-1]:
            self.before[day] = count
            if calendar.is_working_day(day):
                count += 1
            day += timedelta(days=1)

    def span_sum(self, starts: Mapping[date, int], ends: Mapping[date, int]) -> int:
        """The working days of all spans, given how many start and end on each day."""
        return sum(n * self.before[d] for d, n in ends.items()) - sum(
            n * self.before[d] for d, n in starts.items()
        )


def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- the figures -----------------------------------------------------------------------------


def park_stats(session: Session, scope: Scope, filters: Filters, now: datetime) -> dict[str, Any]:
    """The supervision figures of the population (see the module's docstring)."""
    calendar = park_calendar(scope.park, session)
    if _dialect(session) == "postgresql":
        # a handful of aggregates over many rows: compiling them (JIT) costs more than it
        # saves, so not in this transaction
        session.execute(text("SET LOCAL jit = off"))
    days = Days(session, scope.park, calendar)
    where = population(session, scope, filters)
    completed = and_(
        Instance.status == "completed", func.coalesce(Instance.result, "") != "withdrawn"
    )
    promised = and_(completed, Instance.promised_at.is_not(None))
    is_open = Instance.status.in_(OPEN_STATUSES)

    # One pass over the population: how many applications there are of each combination of
    # the days a completed one was received, ended and promised by (empty for one not
    # completed; a promise's day empty without a promise), whether it was on time and whether
    # it is open past its promise. The days are stored when an application ends
    # (webapp.services.facts); computed here only for a row that has none.
    paused = Instance.paused_seconds
    received = case(
        (completed, func.coalesce(Instance.receipt_day, days.receipt(Instance.started_at)))
    )
    ended = case((completed, func.coalesce(Instance.end_day, days.end(Instance.ended_at, paused))))
    promise = case(
        (completed, func.coalesce(Instance.promise_day, days.end(Instance.promised_at, paused)))
    )
    in_time = case((and_(promised, Instance.ended_at <= Instance.promised_at), 1), else_=0)
    late_open = case((and_(is_open, Instance.promised_at < now), 1), else_=0)
    applications = done = with_promise = on_time = overdue_open = 0
    spans: dict[str, dict[date, int]] = {"s": {}, "e": {}, "q": {}, "p": {}}

    def add(kind: str, day: Any, n: int) -> None:
        day = _as_date(day)
        spans[kind][day] = spans[kind].get(day, 0) + n

    for start, end, promised_by, timely, late, n in session.execute(
        select(received, ended, promise, in_time, late_open, func.count())
        .where(*where)
        .group_by(received, ended, promise, in_time, late_open)
    ):
        applications += n
        on_time += n if timely else 0
        overdue_open += n if late else 0
        if start is None:
            continue  # not completed
        done += n
        add("s", start, n)
        add("e", end, n)
        if promised_by is not None:
            with_promise += n
            add("q", start, n)
            add("p", promised_by, n)

    steps = _steps(session, scope, filters, days, now)
    groups = _groups(session, scope, filters, now)
    ratings = _ratings(session, scope, filters, where)
    every_day = [d for found in spans.values() for d in found]
    every_day += steps.pop("days")
    counted = WorkingDays(calendar, every_day)
    for step in steps["steps"]:
        step["avg_working_days"] = _average(
            counted.span_sum(step.pop("starts"), step.pop("ends")), step.pop("completed")
        )
    return {
        "applications": applications,
        "completed": done,
        "on_time_rate": _rate(on_time, with_promise),
        "overdue_open": overdue_open,
        "avg_working_days": _average(counted.span_sum(spans["s"], spans["e"]), done),
        "promised_working_days": _average(counted.span_sum(spans["q"], spans["p"]), with_promise),
        "ratings": ratings,
        "steps": steps["steps"],
        "by_group": groups,
    }


def _steps(
    session: Session, scope: Scope, filters: Filters, days: Days, now: datetime
) -> dict[str, Any]:
    joined, tasks = task_rows(session, scope, filters)
    done = HumanTask.status == "completed"
    overdue = or_(
        and_(HumanTask.status == "open", HumanTask.due_at < now),
        and_(done, HumanTask.due_at < HumanTask.completed_at),
    )

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # one pass: each step's figures by the days its completed tasks started and ended (the
    # days stored when the application ended, computed for a task without them); the open
    # ones with no days
    start = case((done, func.coalesce(HumanTask.created_day, days.receipt(HumanTask.created_at))))
    end = case((done, func.coalesce(HumanTask.completed_day, days.end(HumanTask.completed_at))))
    found: dict[str, dict[str, Any]] = {}
    every_day = []
    for element_id, started, ended, name, opened, late, completed, first in session.execute(
        joined.add_columns(
            HumanTask.element_id,
            start,
            end,
            func.max(HumanTask.name),
            count_if(HumanTask.status == "open"),
            count_if(overdue),
            count_if(done),
            func.min(HumanTask.created_at),
        )
        .where(*tasks)
        .group_by(HumanTask.element_id, start, end)
    ):
        step = found.setdefault(
            element_id,
            {
                "element_id": element_id,
                "name": name,
                "avg_working_days": None,
                "overdue": 0,
                "open": 0,
                "completed": 0,
                "first": first,
                "starts": {},
                "ends": {},
            },
        )
        step["name"] = max(step["name"], name)
        step["first"] = min(step["first"], first)
        step["overdue"] += int(late)
        step["open"] += int(opened)
        step["completed"] += int(completed)
        if started is not None and ended is not None:
            for kind, day in (("starts", _as_date(started)), ("ends", _as_date(ended))):
                step[kind][day] = step[kind].get(day, 0) + int(completed)
                every_day.append(day)
    # in the order the steps first came up
    ordered = sorted(found.values(), key=lambda step: (step.pop("first"), step["element_id"]))
    return {"steps": ordered, "days": every_day}


def _groups(
    session: Session, scope: Scope, filters: Filters, now: datetime
) -> list[dict[str, Any]]:
    group = task_group(session)
    done = HumanTask.status == "completed"
    dated = and_(done, HumanTask.due_at.is_not(None))

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    base, tasks = task_rows(session, scope, filters)
    rows = session.execute(
        base.add_columns(
            group,
            count_if(done),
            count_if(dated),
            count_if(and_(dated, HumanTask.completed_at <= HumanTask.due_at)),
            count_if(and_(HumanTask.status == "open", HumanTask.due_at < now)),
        )
        .where(
            *tasks,
            group.is_not(None),
            group.not_in(applicant_lanes(scope.park)),
        )
        .group_by(group)
    ).all()
    found = [
        {
            "group": name,
            "completed": int(completed),
            "on_time_rate": _rate(int(on_time), int(with_due)),
            "overdue_open": int(overdue),
        }
        for name, completed, with_due, on_time, overdue in rows
    ]
    # the ranking: best on-time rate first, then fewest overdue, then the most work done
    found.sort(
        key=lambda g: (
            -(g["on_time_rate"] if g["on_time_rate"] is not None else -1),
            g["overdue_open"],
            -g["completed"],
            g["group"],
        )
    )
    return found


def _ratings(
    session: Session, scope: Scope, filters: Filters, where: list[ColumnElement[bool]]
) -> dict[str, Any]:
    bad = Rating.grade <= BAD_UP_TO
    rectified = exists(
        select(literal(1)).where(
            AuditEvent.instance_id == Rating.instance_id, AuditEvent.action == RECTIFIED_ACTION
        )
    )

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    count, satisfied, bad_count, bad_rectified = (
        int(v)
        for v in session.execute(
            select(
                func.count(),
                count_if(Rating.grade >= SATISFIED_FROM),
                count_if(bad),
                count_if(and_(bad, rectified)),
            )
            .select_from(Rating)
            .where(*_rated(scope, filters, where))
        ).one()
    )
    return {
        "count": count,
        "satisfied_rate": _rate(satisfied, count),
        "bad": bad_count,
        "bad_rectified": bad_rectified,
    }


def _rated(scope: Scope, filters: Filters, where: list[ColumnElement[bool]]) -> list[Any]:
    """Which ratings count: those of the park, unless the population needs more than that
    (a range, a procedure, a reviewer's groups), then those of its applications."""
    if (
        scope.groups is None
        and filters.date_from is None
        and filters.date_to is None
        and filters.definition_ids is None
    ):
        return [Rating.park_id == scope.park.id]
    return [Rating.instance_id.in_(select(Instance.id).where(*where))]


__all__ = [
    "Filters",
    "Scope",
    "check_filters",
    "park_stats",
    "population",
    "scope_for",
    "task_conditions",
    "task_group",
    "task_rows",
]
