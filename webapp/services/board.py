"""The supervision board: the park's figures (``webapp.services.stats``) arranged for a meeting.

The KPI tiles, the per-group ranking and the heatmap's step figures are the statistics'
own; the board adds what the statistics do not break down: the figures per procedure (the
statistics asked once per procedure), the trend by calendar week (received, completed, on
time, counted by local day in SQL and summed per ISO week here) and, for the heatmap, how
many tasks each step had, the base of its overdue share.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from webapp.models import HumanTask, Instance, ProcessDefinition
from webapp.services.calendars import park_calendar
from webapp.services.errors import Invalid
from webapp.services.stats import Filters, Scope, park_stats, population, task_conditions

# the trend shows at most this many weeks (the last ones of the range)
MOST_WEEKS = 53
# the per-procedure table asks the statistics for at most this many procedures
MOST_PROCEDURES = 30


@dataclass(frozen=True)
class Procedure:
    """A procedure of the park: its key, latest name and its versions, newest first."""

    key: str
    name: str
    versions: tuple[tuple[int, str], ...]  # (version number, definition id)


def procedures(session: Session, park_id: str) -> list[Procedure]:
    """The park's procedures by name, each with its versions."""
    rows = session.execute(
        select(
            ProcessDefinition.key,
            ProcessDefinition.name,
            ProcessDefinition.version,
            ProcessDefinition.id,
        )
        .where(ProcessDefinition.park_id == park_id)
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ).all()
    found: dict[str, Procedure] = {}
    for key, name, version, definition_id in rows:
        known = found.get(key)
        if known is None:
            found[key] = Procedure(key, name, ((version, definition_id),))
        else:
            found[key] = replace(known, versions=(*known.versions, (version, definition_id)))
    return sorted(found.values(), key=lambda p: (p.name, p.key))


def by_procedure(
    session: Session, scope: Scope, filters: Filters, now: datetime, known: list[Procedure]
) -> list[dict[str, Any]]:
    """The figures of each procedure with applications in the population, busiest first."""
    counts = session.execute(
        select(ProcessDefinition.key, func.count())
        .select_from(Instance)
        .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        .where(*population(session, scope, filters))
        .group_by(ProcessDefinition.key)
        .order_by(func.count().desc(), ProcessDefinition.key)
        .limit(MOST_PROCEDURES)
    ).all()
    names = {p.key: p for p in known}
    found = []
    for key, _count in counts:
        procedure = names[key]
        narrowed = replace(
            filters, process_key=key, definition_ids=tuple(i for _v, i in procedure.versions)
        )
        figures = park_stats(session, scope, narrowed, now)
        found.append({"key": key, "name": procedure.name, **_headline(figures)})
    return found


def _headline(figures: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "applications",
        "completed",
        "on_time_rate",
        "overdue_open",
        "avg_working_days",
        "promised_working_days",
    )
    return {**{k: figures[k] for k in keys}, "satisfied_rate": figures["ratings"]["satisfied_rate"]}


def rectified_rate(ratings: dict[str, Any]) -> float | None:
    """差评整改率: the share of bad ratings rectified, None without a bad rating."""
    return round(ratings["bad_rectified"] / ratings["bad"], 4) if ratings["bad"] else None


# --- the trend by week -----------------------------------------------------------------------


def _local_day(session: Session, column: Any, scope: Scope) -> ColumnElement[date]:
    calendar = park_calendar(scope.park, session)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(calendar.timezone.key, column), Date)
    # SQLite knows no time zones: the zone's offset now (exact for zones without DST)
    offset = datetime.now(calendar.timezone).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds()):+d} seconds")


def week_of(day: date) -> date:
    """The Monday of the ISO week of ``day``."""
    return day - timedelta(days=day.weekday())


def _weeks(first: date, last: date) -> Iterator[date]:
    week = week_of(first)
    while week <= last:
        yield week
        week += timedelta(days=7)


def trend(session: Session, scope: Scope, filters: Filters, today: date) -> list[dict[str, Any]]:
    """Per ISO week: applications received, completed, and the on-time rate of the completed.

    The population is the statistics' own (received in the range); a week counts what was
    received in it and what of the population was completed in it.
    """
    where = population(session, scope, filters)
    received_day = _local_day(session, Instance.started_at, scope)
    ended_day = _local_day(session, Instance.ended_at, scope)
    completed = and_(
        Instance.status == "completed", func.coalesce(Instance.result, "") != "withdrawn"
    )
    promised = and_(completed, Instance.promised_at.is_not(None))
    on_time = and_(promised, Instance.ended_at <= Instance.promised_at)

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    weeks: dict[date, dict[str, int]] = {}

    def add(day: Any, **counts: int) -> None:
        moment = day if isinstance(day, date) else date.fromisoformat(str(day))
        slot = weeks.setdefault(
            week_of(moment), {"received": 0, "completed": 0, "promised": 0, "on_time": 0}
        )
        for key, value in counts.items():
            slot[key] += int(value)

    for day, n in session.execute(
        select(received_day, func.count()).where(*where).group_by(received_day)
    ):
        add(day, received=n)
    for day, done, with_promise, in_time in session.execute(
        select(ended_day, func.count(), count_if(promised), count_if(on_time))
        .where(*where, completed)
        .group_by(ended_day)
    ):
        add(day, completed=done, promised=with_promise, on_time=in_time)
    if not weeks:
        return []
    first = filters.date_from or min(weeks)
    # up to the range's end, but no week after today's without figures
    last = min(filters.date_to or max(weeks), max(today, max(weeks)))
    shown = list(_weeks(first, last))[-MOST_WEEKS:]
    empty = {"received": 0, "completed": 0, "promised": 0, "on_time": 0}
    return [
        {
            "week": week.isoformat(),
            "received": weeks.get(week, empty)["received"],
            "completed": weeks.get(week, empty)["completed"],
            "on_time_rate": (
                round(weeks[week]["on_time"] / weeks[week]["promised"], 4)
                if week in weeks and weeks[week]["promised"]
                else None
            ),
        }
        for week in shown
    ]


# --- the heatmap -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Heatmap:
    """The procedure and version the heatmap shows, and each step's figures by element id."""

    procedure: Procedure
    version: int
    definition_id: str
    all_versions: bool
    steps: dict[str, dict[str, Any]]


def choose_version(procedure: Procedure, version: str | None) -> tuple[int, str, bool]:
    """The version asked for (number, definition id, whether all versions count)."""
    if not version:
        number, definition_id = procedure.versions[0]
        return number, definition_id, True
    if not (version.isascii() and version.isdigit()):
        raise Invalid(f"version {version!r} is not a number", details={"version": ["not a number"]})
    for number, definition_id in procedure.versions:
        if number == int(version):
            return number, definition_id, False
    raise Invalid(
        f"the procedure {procedure.key!r} has no version {version}",
        details={"version": ["is not a version of this procedure"]},
    )


def heatmap(
    session: Session,
    scope: Scope,
    filters: Filters,
    now: datetime,
    procedure: Procedure,
    version: str | None,
) -> Heatmap:
    """Each step's average working days, overdue count and share, of one procedure.

    Without a version the diagram is the latest one and every version's applications count
    (steps are matched by element id); with one, only that version's applications count.
    """
    number, definition_id, every = choose_version(procedure, version)
    ids = tuple(i for _v, i in procedure.versions) if every else (definition_id,)
    narrowed = replace(filters, process_key=procedure.key, definition_ids=ids)
    figures = park_stats(session, scope, narrowed, now)
    totals = dict(
        session.execute(
            select(HumanTask.element_id, func.count())
            .select_from(HumanTask)
            .join(Instance, Instance.id == HumanTask.instance_id)
            .where(
                *task_conditions(session, scope),
                *population(session, scope, narrowed),
                HumanTask.status.in_(("open", "completed")),
            )
            .group_by(HumanTask.element_id)
        ).all()
    )
    steps = {}
    for step in figures["steps"]:
        total = int(totals.get(step["element_id"], 0))
        steps[step["element_id"]] = {
            **step,
            "tasks": total,
            "overdue_share": round(step["overdue"] / total, 4) if total else None,
        }
    return Heatmap(procedure, number, definition_id, every, steps)


__all__ = [
    "Heatmap",
    "Procedure",
    "by_procedure",
    "choose_version",
    "heatmap",
    "procedures",
    "rectified_rate",
    "trend",
    "week_of",
]
