"""Holiday schedules: the State Council's yearly schedule imported per park.

The built-in package knows the years published when it was released; every autumn the State
Council publishes the next year's holidays and make-up workdays (调休). A park administrator
pastes them, or uploads an .ics calendar of them, sees a preview, and saves: from then on the
park's calendar follows the imported schedule for that year (engine.calendars.ParkCalendar).

Pasted text is read clause by clause (lines, split at 。 and ；). A clause names days or
ranges, then what they are, so the notice itself can be pasted as published::

    一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。
    二、春节：2月6日至12日放假调休，共7天。1月31日（周日）、2月20日（周六）上班。
    2027-10-01..2027-10-07 holiday
    2027-09-26 workday

Dates are ``2027年1月1日``, ``2027-01-01``, ``2027/1/1`` or ``1月1日`` (in the year being
imported); a range is two dates, or a date and a day (``至3日``), joined by ``至``, ``到``,
``~``, ``-`` or ``..``; the kind is ``放假``/``休``/``holiday`` or ``上班``/``班``/``补班``/
``workday``. Text without dates (the notice's heading and greeting) is skipped; a clause with
dates but no kind is reported, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendars import DayKind
from webapp.models import HolidaySchedule, Park
from webapp.services import audit
from webapp.services.calendars import calendar_changed, park_calendar
from webapp.services.errors import Invalid

MAX_TEXT = 200_000
MAX_DAYS = 120  # a year has about 30 holidays and 5 make-up days: more is not a schedule
MAX_RANGE = 31
_DATE = (
    r"(?:(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?"
    r"|(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
)
_PAREN = r"(?:\s*[（(][^）)]{0,20}[）)])?"
_ITEM = re.compile(
    _DATE
    + _PAREN
    + r"(?:\s*(?:至|到|~|～|—|–|\.\.|-)\s*(?:"
    + _DATE
    + r"|(\d{1,2})\s*日)"
    + _PAREN
    + r")?"
)
_CLAUSES = re.compile(r"[。；;]")
_WORK_WORDS = ("调休上班", "补班", "上班", "班", "workday", "work")
_HOLIDAY_WORDS = ("放假", "休息", "休", "holiday", "off")


@dataclass(frozen=True)
class Schedule:
    """What an import would save: the year, its days and where they came from."""

    year: int
    days: dict[date, DayKind]
    source: str

    @property
    def holidays(self) -> list[date]:
        return sorted(day for day, kind in self.days.items() if kind == "holiday")

    @property
    def workdays(self) -> list[date]:
        return sorted(day for day, kind in self.days.items() if kind == "workday")


def parse_pasted(text: str, year: int) -> Schedule:
    """The schedule of ``year`` from pasted text; Invalid listing every unreadable part."""
    if len(text) > MAX_TEXT:
        raise Invalid(
            "the text is too long for a year's schedule", details={"text": ["is too long"]}
        )
    days: dict[date, DayKind] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for clause in _CLAUSES.split(line):
            try:
                found = _clause_days(clause.strip(), year)
            except ValueError as exc:
                problems.append(f"line {number}: {exc}")
                continue
            for day, kind in found:
                days[day] = kind
    if problems:
        raise Invalid("; ".join(problems), details={"text": problems})
    return _checked(Schedule(year, days, "pasted"))


def _clause_days(clause: str, year: int) -> list[tuple[date, DayKind]]:
    """The days one clause names (none for text without dates), all of the kind it says."""
    items = list(_ITEM.finditer(clause))
    if not items:
        return []
    rest = _ITEM.sub(" ", clause).rsplit("：", 1)[-1].lower()
    kind = _kind_of(rest)
    if kind is None:
        raise ValueError(f"say whether “{clause[:60]}” is 放假 (holiday) or 上班 (workday)")
    found: list[tuple[date, DayKind]] = []
    for item in items:
        first, last = _range_of(item.groups(), year)
        if last < first or (last - first).days >= MAX_RANGE:
            raise ValueError(f"“{item.group(0)}” is not a range of at most {MAX_RANGE} days")
        found.extend((first + timedelta(days=n), kind) for n in range((last - first).days + 1))
    return found


def _range_of(groups: tuple[str | None, ...], year: int) -> tuple[date, date]:
    y1, m1, d1, m1b, d1b, y2, m2, d2, m2b, d2b, d_only = groups
    first_year = int(y1) if y1 else year
    first = _date(first_year, m1 or m1b, d1 or d1b)
    if y2 or m2 or m2b:
        last = _date(int(y2) if y2 else first_year, m2 or m2b, d2 or d2b)
        if not y1 and not y2 and last < first:  # 12月31日至1月2日: across the new year
            first = _date(first_year - 1, m1 or m1b, d1 or d1b)
    elif d_only:
        last = _date(first.year, str(first.month), d_only)
    else:
        last = first
    return first, last


def _kind_of(text: str) -> DayKind | None:
    # "调休上班" says work although it holds "休": the work words are looked for first
    if any(word in text for word in _WORK_WORDS):
        return "workday"
    if any(word in text for word in _HOLIDAY_WORDS):
        return "holiday"
    return None


def _date(year: int, month: str | None, day: str | None) -> date:
    try:
        return date(year, int(month or ""), int(day or ""))
    except ValueError as exc:
        raise ValueError(f"{year}-{month}-{day} is not a date") from exc


def parse_ics(content: bytes, year: int) -> Schedule:
    """The schedule of ``year`` from an iCalendar file: each all-day event is a holiday,
    or a workday when its summary says 班 or work; Invalid when it is not such a file."""
    if len(content) > MAX_TEXT * 4:
        raise Invalid(
            "the file is too large for a year's schedule", details={"file": ["is too large"]}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text", details={"file": ["is not UTF-8"]}) from exc
    if "BEGIN:VCALENDAR" not in text:
        raise Invalid(
            "the file is not an iCalendar (.ics) file", details={"file": ["is not an .ics file"]}
        )
    days: dict[date, DayKind] = {}
    for event in _events(_unfolded(text)):
        start, end = event.get("DTSTART"), event.get("DTEND")
        if start is None:
            continue
        first = _ics_date(start)
        # DTEND of an all-day event is the day after the last one
        last = _ics_date(end) - timedelta(days=1) if end is not None else first
        if last < first or (last - first).days >= MAX_RANGE:
            raise Invalid(
                f"an event from {first} lasts too long for a holiday",
                details={"file": [f"the event from {first} is too long"]},
            )
        summary = event.get("SUMMARY", "").lower()
        kind: DayKind = "workday" if any(w in summary for w in _WORK_WORDS) else "holiday"
        for n in range((last - first).days + 1):
            days[first + timedelta(days=n)] = kind
    return _checked(Schedule(year, days, "ics"))


def _unfolded(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def _events(lines: Iterable[str]) -> Iterable[dict[str, str]]:
    event: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            event = {}
        elif line == "END:VEVENT" and event is not None:
            yield event
            event = None
        elif event is not None and ":" in line:
            name, value = line.split(":", 1)
            event[name.split(";", 1)[0].upper()] = value.strip()


def _ics_date(value: str) -> date:
    digits = value[:8]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as exc:
        raise Invalid(
            f"“{value}” is not an .ics date", details={"file": [f"“{value}” is not a date"]}
        ) from exc


def _checked(schedule: Schedule) -> Schedule:
    """Only the days of the year (or its eve, a 元旦 break) and a sane number of them."""
    year = schedule.year
    days = {
        day: kind
        for day, kind in schedule.days.items()
        if day.year == year or (day.year == year - 1 and day.month == 12)
    }
    stray = sorted(set(schedule.days) - set(days))
    if stray:
        raise Invalid(
            f"{stray[0].isoformat()} does not belong to the schedule of {year}",
            details={"text": [f"{stray[0].isoformat()} is not in {year}"]},
        )
    if not days:
        raise Invalid(f"no day of {year} was found", details={"text": ["names no day"]})
    if len(days) > MAX_DAYS:
        raise Invalid(
            f"{len(days)} days is more than a year's schedule has",
            details={"text": ["names too many days"]},
        )
    return Schedule(year, dict(sorted(days.items())), schedule.source)


def save(session: Session, park: Park, schedule: Schedule, *, actor: str) -> None:
    """Store ``schedule`` as the park's schedule of its year (replacing an earlier import)."""
    found = session.get(HolidaySchedule, (park.id, schedule.year))
    days: dict[str, str] = {day.isoformat(): kind for day, kind in schedule.days.items()}
    replaced = found is not None
    if found is None:
        found = HolidaySchedule(park_id=park.id, year=schedule.year)
        session.add(found)
    found.days, found.source, found.imported_by = days, schedule.source, actor
    calendar_changed(session, park)
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="calendar.schedule_imported",
        details={
            "year": schedule.year,
            "source": schedule.source,
            "holidays": len(schedule.holidays),
            "workdays": len(schedule.workdays),
            "replaced": replaced,
        },
    )


def remove(session: Session, park: Park, year: int, *, actor: str) -> bool:
    """Drop the park's imported schedule of ``year`` (the package decides again)."""
    found = session.get(HolidaySchedule, (park.id, year))
    if found is None:
        return False
    session.delete(found)
    calendar_changed(session, park)
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="calendar.schedule_removed",
        details={"year": year},
    )
    return True


def schedules(session: Session, park: Park) -> list[HolidaySchedule]:
    """The park's imported schedules, newest year first."""
    return list(
        session.scalars(
            select(HolidaySchedule)
            .where(HolidaySchedule.park_id == park.id)
            .order_by(HolidaySchedule.year.desc())
        )
    )


def stored(row: HolidaySchedule) -> Schedule:
    """An imported schedule as a Schedule."""
    days = {date.fromisoformat(day): cast(DayKind, kind) for day, kind in row.days.items()}
    return Schedule(row.year, dict(sorted(days.items())), row.source)


def coming_year_unknown(session: Session, park: Park, today: date) -> int | None:
    """The coming year, when neither the package nor the park's imports know its schedule."""
    coming = today.year + 1
    return None if park_calendar(park, session).knows_year(coming) else coming


__all__ = [
    "Schedule",
    "coming_year_unknown",
    "parse_ics",
    "parse_pasted",
    "remove",
    "save",
    "schedules",
    "stored",
]
