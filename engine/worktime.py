"""Time values (durations, dates, cycles, working days) and the park's working calendar.

Everything returned is an aware UTC datetime. Wall-clock reasoning (working days, calendar days,
months, a plain date) happens in the calendar's time zone, so "+1 working day" keeps the local
clock time and "P1M" from 31 January lands on the last day of February.
"""

from __future__ import annotations

import functools
import re
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from .errors import ExpressionError
from .expressions import evaluate

MAX_WORKDAYS = 2000  # about eight years; beyond that a value is a typo
DEFAULT_DAY_END = time(17, 30)  # when a park's working day ends unless it says otherwise
_SEARCH_DAYS = 366  # a calendar with no working day in a whole year is broken
_END_OF_DAY = time(23, 59, 59)
_NO_VARIABLES: Mapping[str, Any] = MappingProxyType({})

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"P(?:(?P<weeks>{_NUMBER})W|(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?"
    rf"(?:(?P<days>{_NUMBER})D)?(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?"
    rf"(?:(?P<seconds>{_NUMBER})S)?)?)")
_WORKDAYS = re.compile(r"(\d+)\s*WD", re.IGNORECASE)
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class WorkCalendar(Protocol):
    """Which days are working days, and the time zone they are counted in."""

    @property
    def timezone(self) -> ZoneInfo:
        """The park's time zone."""
        ...

    @property
    def day_ends(self) -> time:
        """The local clock time a working day ends: a limit in working days runs to it."""
        ...

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` (a local calendar date) is a working day."""
        ...


@dataclass(frozen=True)
class WeekendCalendar:
    """Monday to Friday are working days; Saturday and Sunday are not."""

    timezone: ZoneInfo = ZoneInfo("Asia/Shanghai")
    day_ends: time = DEFAULT_DAY_END

    def is_working_day(self, day: date) -> bool:
        """True from Monday to Friday."""
        return day.weekday() < 5


@dataclass(frozen=True)
class TimeValue:
    """A parsed due or timer literal with its canonical text."""

    kind: Literal["duration", "date", "cycle", "workdays"]
    text: str  # 'PT48H', '2026-12-31T17:00:00+08:00', '2026-12-31', 'R3/P1D', '5WD'


class _Duration(NamedTuple):
    months: int  # years are folded in
    days: float  # weeks are folded in
    seconds: float


def add_working_days(start: datetime, n: int, calendar: WorkCalendar) -> datetime:
    """The same local clock time on the n-th following working day (aware UTC result).

    A start on a non-working day counts as received on the next working day, at the same local
    clock time, and counting starts from there: Saturday 10:00 + 1WD is Tuesday 10:00 and
    Saturday 10:00 + 0WD is Monday 10:00 (weekend calendar). On a working day, 0WD is ``start``.
    """
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    if not 0 <= n <= MAX_WORKDAYS:
        raise ValueError(f"working days must be between 0 and {MAX_WORKDAYS}, not {n}")
    return shift_working_days(start, n, calendar, step=1)


def end_of_working_days(start: datetime, n: int, calendar: WorkCalendar) -> datetime:
    """When a limit of n working days from ``start`` runs out (aware UTC result).

    People count such a limit in whole days, the way a period in days is counted in law
    (开始的当日不计入): the day of filing never counts, and the limit ends at the end of the
    n-th working day after it (``calendar.day_ends``, local), whatever the minute of filing.
    So a filing on a non-working day has the next working day as its first: Saturday 02:06
    + 5WD ends Friday 17:30, as does Monday 09:00 + 4WD; Monday 18:00 + 3WD ends Thursday.
    0WD ends with the day of receipt: the day of filing when it is a working day and the
    filing came before its end, else the next working day.
    """
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    if not 0 <= n <= MAX_WORKDAYS:
        raise ValueError(f"working days must be between 0 and {MAX_WORKDAYS}, not {n}")
    local = start.astimezone(calendar.timezone)
    day = local.date()
    if n == 0:
        if local.time() >= calendar.day_ends:
            day += timedelta(days=1)
        day = _nearest_working_day(day, calendar, 1)
    for _ in range(n):
        day = _nearest_working_day(day + timedelta(days=1), calendar, 1)
    return datetime.combine(day, calendar.day_ends, calendar.timezone).astimezone(UTC)


def shift_working_days(moment: datetime, n: int, calendar: WorkCalendar, *,
                       step: Literal[1, -1]) -> datetime:
    """The same local clock time n working days after (``step`` 1) or before (-1) ``moment``.

    A ``moment`` on a non-working day counts from the nearest working day in that direction;
    0 days from a working day is ``moment`` itself. Callers check ``moment`` and ``n``.
    """
    local = moment.astimezone(calendar.timezone)
    day = _nearest_working_day(local.date(), calendar, step)
    for _ in range(n):
        day = _nearest_working_day(day + timedelta(days=step), calendar, step)
    if day == local.date():
        return moment.astimezone(UTC)
    return datetime.combine(day, local.time(), calendar.timezone).astimezone(UTC)


def _nearest_working_day(day: date, calendar: WorkCalendar, step: Literal[1, -1]) -> date:
    for offset in range(_SEARCH_DAYS):
        candidate = day + timedelta(days=offset * step)
        if calendar.is_working_day(candidate):
            return candidate
    side = "after" if step > 0 else "before"
    raise ValueError(f"the calendar has no working day in the year {side} {day.isoformat()}")


@functools.lru_cache(maxsize=1024)
def parse_time_value(text: str) -> TimeValue | None:
    """Recognize a bare time literal, or return None when ``text`` is an expression.

    Remembered per text: due dates and timers of a model repeat the same few values on every
    step, and the answer (an immutable `TimeValue`) depends on the text alone.

    Literals: an ISO 8601 duration (PnYnMnDTnHnMnS or PnW), a date-time with an offset or a
    plain date (YYYY-MM-DD, a day in the park's time zone), a repeating interval (R[n]/duration,
    R[n]/start/duration, R[n]/duration/end) and working days (5WD, 10wd). One pair of quotes
    around the literal is removed. Raises ExpressionError when the text looks like a literal
    but is malformed ('P1W2D', 'PT', '2026-13-01', 'R/x').
    """
    candidate = _unquote(text.strip())
    if candidate is None or not candidate:
        return None
    if candidate[0] in "pr" and _DURATION.fullmatch(candidate.upper().split("/")[-1]) is None:
        return None  # lower case is a literal only when it is a valid one, else it is a name
    head = candidate[0].upper() + candidate[1:]
    if re.fullmatch(r"P[\dT][\dYMWDTHS.,]*", head.upper()):
        return TimeValue("duration", _canonical_duration(text, head.upper()))
    if re.match(r"R\d*/", head):
        return TimeValue("cycle", _canonical_cycle(text, head.upper()))
    if re.match(r"\d{4}-", head):
        return TimeValue("date", _parse_date(text, head).isoformat())
    if re.fullmatch(rf"{_NUMBER}\s*[^\W\d_]+", head):
        match = _WORKDAYS.fullmatch(head)
        if match is None:
            raise ExpressionError(text, "not a time value; working days are written like '5WD'")
        if int(match.group(1)) > MAX_WORKDAYS:
            raise ExpressionError(text, f"at most {MAX_WORKDAYS} working days")
        return TimeValue("workdays", f"{int(match.group(1))}WD")
    return None


def _unquote(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        inner = text[1:-1]
        # "'a' + 'b'" starts and ends with a quote too, but is an expression
        return None if text[0] in inner else inner.strip()
    return text


def _duration(source: str, text: str) -> _Duration:
    match = _DURATION.fullmatch(text.replace(",", "."))
    if match is None:
        raise ExpressionError(source, "not an ISO 8601 duration (e.g. PT48H, P5D, P2W; "
                                      "weeks cannot be combined with other parts)")
    present = [(key, value) for key, value in match.groupdict().items() if value is not None]
    if not present:
        raise ExpressionError(source, "the duration has no parts")
    if text.endswith("T"):
        raise ExpressionError(source, "'T' must be followed by hours, minutes or seconds")
    if any("." in value for _, value in present[:-1]):
        raise ExpressionError(source, "only the last part of a duration may have a fraction")
    parts = {key: float(value) for key, value in present}
    if any("." in value for key, value in present if key in ("years", "months")):
        raise ExpressionError(source, "fractions of years or months are not supported")
    return _Duration(
        months=int(parts.get("years", 0) * 12 + parts.get("months", 0)),
        days=parts.get("weeks", 0) * 7 + parts.get("days", 0),
        seconds=parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0))


def _canonical_duration(source: str, text: str) -> str:
    _duration(source, text)
    return text.replace(",", ".")


def _parse_date(source: str, text: str) -> date | datetime:
    try:
        if _PLAIN_DATE.fullmatch(text):
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ExpressionError(source, f"not a valid date: {exc}") from None
    if moment.tzinfo is None:
        raise ExpressionError(source, "a date-time needs a UTC offset, e.g. +08:00")
    return moment


def _cycle_parts(source: str, text: str) -> tuple[int | None, list[date | datetime | str]]:
    repeat, *rest = text.split("/")
    count = int(repeat[1:]) if repeat[1:] else None
    if count == 0:
        raise ExpressionError(source, "a cycle must repeat at least once")
    parts: list[date | datetime | str] = [
        _canonical_duration(source, part) if part.startswith("P") else _parse_date(source, part)
        for part in rest]
    durations = [part for part in parts if isinstance(part, str)]
    if len(parts) not in (1, 2) or len(durations) != 1 or any(
            type(part) is date for part in parts):
        raise ExpressionError(source, "a cycle is R[n]/duration, R[n]/start/duration or "
                                      "R[n]/duration/end, with date-times that have an offset")
    return count, parts


def _canonical_cycle(source: str, text: str) -> str:
    count, parts = _cycle_parts(source, text)
    shown = [part if isinstance(part, str) else part.isoformat() for part in parts]
    return "/".join([f"R{count if count is not None else ''}", *shown])


def _shift(moment: datetime, duration: _Duration, zone: tzinfo, sign: int = 1) -> datetime:
    """``moment`` moved by ``duration``: months and days on the local calendar, the rest exact."""
    local = moment.astimezone(zone)
    year, month = divmod(local.month - 1 + sign * duration.months, 12)
    year += local.year
    try:
        day = min(local.day, monthrange(year, month + 1)[1])
        local = local.replace(year=year, month=month + 1, day=day)
        local += sign * timedelta(days=duration.days)
        return local.astimezone(UTC) + sign * timedelta(seconds=duration.seconds)
    except (ValueError, OverflowError):
        raise ValueError("the duration goes beyond the supported dates") from None


def iso_duration_seconds(text: str, start: datetime) -> float:
    """Seconds that the ISO 8601 duration ``text`` spans from ``start`` (months calendar-aware,
    in ``start``'s own time zone)."""
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    duration = _duration(text, text.strip().upper())
    return (_shift(start, duration, start.tzinfo) - start).total_seconds()


def resolve_due(text: str, *, start: datetime, calendar: WorkCalendar,
                variables: Mapping[str, Any] = _NO_VARIABLES) -> datetime:
    """The absolute aware-UTC time for a dueDate, followUpDate or timer value.

    ``text`` is a literal (see :func:`parse_time_value`) or an expression over ``variables``
    that yields a datetime, a date or such a literal as a string. Durations are added to
    ``start``; working days end with the last day's working hours
    (:func:`end_of_working_days`), not at the minute of ``start``; a date-time with an offset is
    taken as given and a naive one is read in the park's time zone; a plain date means the end
    of that day (23:59:59 local), since "due on the 31st" allows the whole day. A cycle gives its
    first firing. Raises ExpressionError for anything else.
    """
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    literal = parse_time_value(text)
    if literal is not None:
        return _resolve_literal(text, literal, start, calendar)
    value = evaluate(text, variables)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=calendar.timezone)
        return moment.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, _END_OF_DAY, calendar.timezone).astimezone(UTC)
    if isinstance(value, str):
        try:
            literal = parse_time_value(value)
        except ExpressionError as exc:
            raise ExpressionError(text, f"{exc.reason} (the value was {value!r})") from None
        if literal is not None:
            return _resolve_literal(text, literal, start, calendar)
    raise ExpressionError(text, f"the value {value!r} is not a date, a duration or working days")


def _resolve_literal(source: str, literal: TimeValue, start: datetime,
                     calendar: WorkCalendar) -> datetime:
    zone = calendar.timezone
    try:
        if literal.kind == "workdays":
            return end_of_working_days(start, int(literal.text[:-2]), calendar)
        if literal.kind == "duration":
            return _shift(start, _duration(source, literal.text), zone)
        if literal.kind == "date":
            found = _parse_date(source, literal.text)
            if isinstance(found, datetime):
                return found.astimezone(UTC)
            return datetime.combine(found, _END_OF_DAY, zone).astimezone(UTC)
        return _first_firing(source, literal.text, start, zone)
    except ValueError as exc:
        raise ExpressionError(source, str(exc)) from None


def _first_firing(source: str, text: str, start: datetime, zone: tzinfo) -> datetime:
    # as SpiffWorkflow runs cycles: start + duration, the given start, or end - duration
    _, parts = _cycle_parts(source, text)
    if len(parts) == 1:
        return _shift(start, _duration(source, str(parts[0])), zone)
    first, second = parts
    if isinstance(first, datetime):
        return first.astimezone(UTC)
    assert isinstance(second, datetime)
    return _shift(second, _duration(source, str(first)), zone, sign=-1)
