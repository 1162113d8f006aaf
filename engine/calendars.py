"""A park's working calendar: China's statutory schedule, the park's own entries, a time zone.

The statutory holidays and make-up working days (调休) come from the ``chinese_calendar``
package, which knows only the years published when it was released, or from a schedule the
park imported for a year (the State Council's notice, pasted or as an .ics file): an imported
year replaces the package's for that year. For any other year the calendar falls back to
weekends plus the park's own entries and logs a warning once per year, so a due date that
crosses into a year not published yet is still computed, never refused.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

from .worktime import DEFAULT_DAY_END, MAX_WORKDAYS, WorkCalendar, shift_working_days

DayKind = Literal["workday", "holiday"]
DEFAULT_TIMEZONE = "Asia/Shanghai"

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()
_warned_lock = threading.Lock()


class ParkCalendar:
    """Working days of one park: its entries first, then the statutory schedule, then weekends.

    ``overrides`` maps a local date to ``"workday"`` or ``"holiday"`` and wins over everything
    else. ``schedules`` maps a year to the statutory schedule the park imported for it (its
    holidays and make-up workdays; a day may lie in the year before, as a 元旦 break can):
    in an imported year the days it names are what it says and every other day follows the
    weekend, whatever the package says. ``day_ends`` is the local time the park's working
    day ends (a limit in working days runs to it). Calendars are immutable, compare equal
    when they say the same, and can be dict keys.
    """

    __slots__ = ("_day_ends", "_imported", "_imported_years", "_key", "_overrides",
                 "_timezone", "statutory")

    def __init__(self, timezone: ZoneInfo | str = DEFAULT_TIMEZONE, *,
                 overrides: Mapping[date, DayKind] | None = None,
                 statutory: bool = True, day_ends: time = DEFAULT_DAY_END,
                 schedules: Mapping[int, Mapping[date, DayKind]] | None = None) -> None:
        entries = dict(overrides or {})
        imported: dict[date, DayKind] = {}
        for year in sorted(schedules or {}):
            imported.update((schedules or {})[year])
        for day, kind in (*entries.items(), *imported.items()):
            if kind not in ("workday", "holiday"):
                raise ValueError(f"{day.isoformat()}: a day is a 'workday' or a 'holiday', "
                                 f"not {kind!r}")
        self._timezone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self._overrides: Mapping[date, DayKind] = MappingProxyType(entries)
        self._imported: Mapping[date, DayKind] = MappingProxyType(imported)
        self._imported_years = frozenset(schedules or ())
        self.statutory = statutory
        self._day_ends = day_ends
        self._key = (self._timezone.key, statutory, day_ends, tuple(sorted(entries.items())),
                     tuple(sorted(self._imported_years)), tuple(sorted(imported.items())))

    @property
    def timezone(self) -> ZoneInfo:
        """The park's time zone."""
        return self._timezone

    @property
    def day_ends(self) -> time:
        """The local clock time the park's working day ends."""
        return self._day_ends

    @property
    def overrides(self) -> Mapping[date, DayKind]:
        """The park's own entries (read-only)."""
        return self._overrides

    def is_working_day(self, day: date) -> bool:
        """True when people work on ``day`` (a local date) in this park."""
        kind = self._overrides.get(day)
        if kind is not None:
            return kind == "workday"
        kind = self._imported.get(day)
        if kind is not None:
            return kind == "workday"
        if day.year in self._imported_years:
            return day.weekday() < 5
        if self.statutory:
            statutory = _statutory_workday(day)
            if statutory is not None:
                return statutory
            _warn_unknown_year(day.year)
        return day.weekday() < 5

    def knows_year(self, year: int) -> bool:
        """Whether the statutory schedule of ``year`` is known (else weekends are assumed):
        imported by the park, or built into the package."""
        return year in self._imported_years or statutory_year_known(year)

    @property
    def imported_years(self) -> frozenset[int]:
        """The years whose statutory schedule the park imported."""
        return self._imported_years

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParkCalendar) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return (f"ParkCalendar({self._timezone.key!r}, overrides={len(self._overrides)} days, "
                f"statutory={self.statutory})")


def statutory_year_known(year: int) -> bool:
    """Whether ``chinese_calendar`` has the official holiday schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _statutory_workday(day: date) -> bool | None:
    """The national schedule for ``day``; None for a year the package does not know.

    Due dates and reminders ask about the same few weeks over and over: remember them.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _warn_unknown_year(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    logger.warning(
        "the statutory holidays of %d are not known yet (chinesecalendar %s); counting weekends "
        "and the park's own calendar entries only: enter the official %d schedule per park",
        year, getattr(chinese_calendar, "__version__", "?"), year)


def subtract_working_days(end: datetime, n: int, calendar: WorkCalendar) -> datetime:
    """The same local clock time on the n-th working day before ``end`` (aware UTC result).

    The mirror of :func:`engine.worktime.add_working_days`: an ``end`` on a non-working day
    counts from the working day before it. On a working day, 0 returns ``end`` itself.
    """
    if end.tzinfo is None:
        raise ValueError("end must be time-zone aware")
    if not 0 <= n <= MAX_WORKDAYS:
        raise ValueError(f"working days must be between 0 and {MAX_WORKDAYS}, not {n}")
    return shift_working_days(end, n, calendar, step=-1)
