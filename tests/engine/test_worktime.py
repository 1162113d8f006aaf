"""Time values, working days and due-date resolution in the park's time zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.errors import ExpressionError
from engine.worktime import (
    DEFAULT_DAY_END,
    TimeValue,
    WeekendCalendar,
    WorkCalendar,
    add_working_days,
    iso_duration_seconds,
    parse_time_value,
    resolve_due,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = WeekendCalendar()


def local(*args: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


@dataclasses.dataclass(frozen=True)
class HolidayCalendar:
    """Weekends plus listed holidays and make-up working days, as a park calendar has them."""

    holidays: frozenset[date]
    workdays: frozenset[date] = frozenset()
    timezone: ZoneInfo = SHANGHAI
    day_ends: time = DEFAULT_DAY_END

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@pytest.mark.parametrize(("text", "kind", "canonical"), [
    ("PT48H", "duration", "PT48H"),
    ("P5D", "duration", "P5D"),
    ("P2W", "duration", "P2W"),
    ("P1Y2M3DT4H5M6S", "duration", "P1Y2M3DT4H5M6S"),
    ("PT1.5H", "duration", "PT1.5H"),
    ("PT0,5S", "duration", "PT0.5S"),
    ("p3d", "duration", "P3D"),
    ("'PT48H'", "duration", "PT48H"),
    ('"P5D"', "duration", "P5D"),
    ("  PT10M  ", "duration", "PT10M"),
    ("2026-12-31", "date", "2026-12-31"),
    ("2026-12-31T17:00:00+08:00", "date", "2026-12-31T17:00:00+08:00"),
    ("2026-12-31T09:00:00Z", "date", "2026-12-31T09:00:00+00:00"),
    ("'2026-02-28'", "date", "2026-02-28"),
    ("R3/P1D", "cycle", "R3/P1D"),
    ("R/PT1H", "cycle", "R/PT1H"),
    ("R2/2026-01-01T09:00:00+08:00/P1D", "cycle", "R2/2026-01-01T09:00:00+08:00/P1D"),
    ("R/PT1H/2026-01-01T00:00:00Z", "cycle", "R/PT1H/2026-01-01T00:00:00+00:00"),
    ("5WD", "workdays", "5WD"),
    ("10wd", "workdays", "10WD"),
    ('"5WD"', "workdays", "5WD"),
    ("3 WD", "workdays", "3WD"),
    ("0WD", "workdays", "0WD"),
])
def test_valid_literals(text: str, kind: str, canonical: str) -> None:
    assert parse_time_value(text) == TimeValue(kind, canonical)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "review_deadline", "dueDate", "${dueDate}", "#{due}", "P", "PTotal", "priority",
    "r/x", "'a' + 'b'", "due if urgent else later", "42", "",
])
def test_expressions_are_not_literals(text: str) -> None:
    assert parse_time_value(text) is None


@pytest.mark.parametrize(("text", "reason"), [
    ("P1W2D", "not an ISO 8601 duration"),
    ("PT", "the duration has no parts"),
    ("P1DT", "'T' must be followed by hours, minutes or seconds"),
    ("P1.5DT2H", "only the last part of a duration may have a fraction"),
    ("P1.5M", "fractions of years or months are not supported"),
    ("P1H", "not an ISO 8601 duration"),
    ("2026-13-01", "not a valid date"),
    ("2026-02-30", "not a valid date"),
    ("2026-12-31T17:00", "a date-time needs a UTC offset"),
    ("2026-12-31T25:00:00+08:00", "not a valid date"),
    ("R/x", "not a valid date"),
    ("R0/P1D", "a cycle must repeat at least once"),
    ("R/2026-01-01", "a cycle is R[n]/duration"),
    ("R3/P1D/P2D", "a cycle is R[n]/duration"),
    ("R3/P1D/2026-01-01T00:00:00Z/PT1H", "a cycle is R[n]/duration"),
    ("5 days", "working days are written like '5WD'"),
    ("1.5WD", "working days are written like '5WD'"),
    ("5000WD", "at most 2000 working days"),
])
def test_malformed_literals_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_time_value(text)
    assert reason in caught.value.reason


def test_weekend_calendar() -> None:
    assert CALENDAR.timezone == SHANGHAI
    assert [CALENDAR.is_working_day(date(2026, 1, d)) for d in range(5, 12)] == [
        True, True, True, True, True, False, False]
    calendar: WorkCalendar = WeekendCalendar(BERLIN)
    assert calendar.timezone == BERLIN


@pytest.mark.parametrize(("start", "n", "expected"), [
    (local(2026, 1, 9, 10), 1, local(2026, 1, 12, 10)),  # Friday + 1 = Monday
    (local(2026, 1, 9, 10), 5, local(2026, 1, 16, 10)),
    (local(2026, 1, 5, 10), 4, local(2026, 1, 9, 10)),  # Monday + 4 = Friday
    (local(2026, 1, 5, 10), 0, local(2026, 1, 5, 10)),
    (local(2026, 1, 10, 10), 0, local(2026, 1, 12, 10)),  # Saturday counts from Monday
    (local(2026, 1, 10, 10), 1, local(2026, 1, 13, 10)),
    (local(2026, 1, 11, 23, 30), 1, local(2026, 1, 13, 23, 30)),
    (local(2026, 1, 30, 9, 15), 2, local(2026, 2, 3, 9, 15)),  # across a month end
    (local(2026, 12, 30, 16), 3, local(2027, 1, 4, 16)),  # across a year end
    (local(2028, 2, 28, 8), 1, local(2028, 2, 29, 8)),  # leap day is a Tuesday
])
def test_add_working_days(start: datetime, n: int, expected: datetime) -> None:
    result = add_working_days(start, n, CALENDAR)
    assert result == expected
    assert result.tzinfo is UTC


def test_working_days_are_counted_in_the_park_time_zone() -> None:
    # Friday 18:00 UTC is already Saturday 02:00 in Shanghai: the weekend rule applies
    start = datetime(2026, 1, 9, 18, 0, tzinfo=UTC)
    assert add_working_days(start, 1, CALENDAR) == local(2026, 1, 13, 2)
    # ... while in Berlin it is still Friday 19:00
    assert add_working_days(start, 1, WeekendCalendar(BERLIN)) == local(2026, 1, 12, 19,
                                                                        zone=BERLIN)


def test_working_days_keep_the_local_clock_across_daylight_saving() -> None:
    # Berlin moves to summer time on Sunday 29 March 2026
    result = add_working_days(local(2026, 3, 27, 10, zone=BERLIN), 1, WeekendCalendar(BERLIN))
    assert result == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_working_days_follow_holidays_and_make_up_days() -> None:
    calendar = HolidayCalendar(
        holidays=frozenset(date(2026, 10, d) for d in range(1, 9)),
        workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}))
    # Friday 25 September + 1 = Sunday 27 September, a make-up working day
    assert add_working_days(local(2026, 9, 25, 10), 1, calendar) == local(2026, 9, 27, 10)
    # Wednesday 30 September + 1 skips the holiday week, + 2 is Saturday 10 October (make-up)
    assert add_working_days(local(2026, 9, 30, 10), 1, calendar) == local(2026, 10, 9, 10)
    assert add_working_days(local(2026, 9, 30, 10), 2, calendar) == local(2026, 10, 10, 10)
    assert add_working_days(local(2026, 10, 3, 10), 0, calendar) == local(2026, 10, 9, 10)


def test_a_calendar_without_working_days_is_reported() -> None:
    never = HolidayCalendar(holidays=frozenset(
        date(2026, 1, 1) + timedelta(days=d) for d in range(800)))
    with pytest.raises(ValueError, match="no working day"):
        add_working_days(local(2026, 1, 5, 10), 1, never)


@pytest.mark.parametrize(("start", "n"), [
    (datetime(2026, 1, 5, 10), 1),  # naive
    (local(2026, 1, 5, 10), -1),
    (local(2026, 1, 5, 10), 2001),
])
def test_add_working_days_refuses_bad_arguments(start: datetime, n: int) -> None:
    with pytest.raises(ValueError):
        add_working_days(start, n, CALENDAR)


START = local(2026, 1, 30, 10)  # a Friday


@pytest.mark.parametrize(("text", "expected"), [
    ("PT48H", local(2026, 2, 1, 10)),
    ("'P5D'", local(2026, 2, 4, 10)),
    ("P1W", local(2026, 2, 6, 10)),
    ("PT1.5H", local(2026, 1, 30, 11, 30)),
    ("P1M", local(2026, 2, 28, 10)),  # clamped to the month's last day
    ("P2M", local(2026, 3, 30, 10)),
    ("P1Y", local(2027, 1, 30, 10)),
    ("P1DT2H", local(2026, 1, 31, 12)),
    ("2WD", local(2026, 2, 3, 17, 30)),  # working days end with the working day
    ("2026-12-31", local(2026, 12, 31, 23, 59, 59)),  # a plain date is due at its end
    ("2026-12-31T17:00:00+08:00", local(2026, 12, 31, 17)),
    ("2026-12-31T09:00:00Z", local(2026, 12, 31, 17)),
    ("R3/P1D", local(2026, 1, 31, 10)),  # a cycle resolves to its first firing
    ("R/2026-03-01T08:00:00+08:00/PT1H", local(2026, 3, 1, 8)),
    ("R2/P1D/2026-03-01T08:00:00+08:00", local(2026, 2, 28, 8)),
])
def test_resolve_due_literals(text: str, expected: datetime) -> None:
    result = resolve_due(text, start=START, calendar=CALENDAR)
    assert result == expected
    assert result.tzinfo is UTC


def test_months_are_calendar_aware_in_leap_years() -> None:
    assert resolve_due("P1M", start=local(2028, 1, 31, 10), calendar=CALENDAR) == local(
        2028, 2, 29, 10)
    assert resolve_due("P1Y", start=local(2028, 2, 29, 10), calendar=CALENDAR) == local(
        2029, 2, 28, 10)


def test_days_are_calendar_days_and_hours_are_elapsed_time() -> None:
    berlin = WeekendCalendar(BERLIN)
    start = local(2026, 3, 28, 12, zone=BERLIN)  # the day before summer time starts
    assert resolve_due("P1D", start=start, calendar=berlin) == local(2026, 3, 29, 12,
                                                                    zone=BERLIN)
    assert resolve_due("PT24H", start=start, calendar=berlin) == local(2026, 3, 29, 13,
                                                                      zone=BERLIN)


@pytest.mark.parametrize(("text", "variables", "expected"), [
    ("due", {"due": date(2026, 2, 3)}, local(2026, 2, 3, 23, 59, 59)),
    ("${due}", {"due": datetime(2026, 2, 3, 9, 0, tzinfo=UTC)}, local(2026, 2, 3, 17)),
    ("due", {"due": datetime(2026, 2, 3, 9, 0)}, local(2026, 2, 3, 9)),  # naive: park time
    ("sla", {"sla": "PT48H"}, local(2026, 2, 1, 10)),
    ("sla", {"sla": "3WD"}, local(2026, 2, 4, 17, 30)),
    ("sla", {"sla": "2026-02-10"}, local(2026, 2, 10, 23, 59, 59)),
    ("'P3D' if urgent else '10WD'", {"urgent": True}, local(2026, 2, 2, 10)),
    ("fast if urgent else slow",
     {"urgent": False, "fast": "1WD", "slow": "2WD"}, local(2026, 2, 3, 17, 30)),
    ("date(submitted)", {"submitted": "2026-02-05T10:00:00+08:00"},
     local(2026, 2, 5, 23, 59, 59)),
])
def test_resolve_due_expressions(text: str, variables: dict[str, object],
                                 expected: datetime) -> None:
    result = resolve_due(text, start=START, calendar=CALENDAR, variables=variables)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("text", "variables", "reason"), [
    ("due", {"due": 5}, "the value 5 is not a date, a duration or working days"),
    ("due", {"due": "soon"}, "the value 'soon' is not a date"),
    ("due", {"due": "P1W2D"}, "not an ISO 8601 duration"),
    ("due", {}, "unknown variable 'due'"),
    ("due.date", {"due": None}, "attribute access is not allowed"),
    ("P1W2D", {}, "not an ISO 8601 duration"),
    ("'PT5X'", {}, "the value 'PT5X' is not a date"),
])
def test_resolve_due_refuses_other_values(text: str, variables: dict[str, object],
                                          reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        resolve_due(text, start=START, calendar=CALENDAR, variables=variables)
    assert reason in caught.value.reason


def test_resolve_due_names_the_value_of_a_malformed_result() -> None:
    with pytest.raises(ExpressionError) as caught:
        resolve_due("sla", start=START, calendar=CALENDAR, variables={"sla": "P1W2D"})
    assert caught.value.expression == "sla"
    assert "(the value was 'P1W2D')" in caught.value.reason


def test_resolve_due_needs_an_aware_start() -> None:
    with pytest.raises(ValueError):
        resolve_due("PT1H", start=datetime(2026, 1, 1), calendar=CALENDAR)


@pytest.mark.parametrize(("text", "start", "seconds"), [
    ("PT1H", local(2026, 1, 1), 3600.0),
    ("P1W", local(2026, 1, 1), 7 * 86400.0),
    ("PT1M30S", local(2026, 1, 1), 90.0),
    ("P1M", datetime(2026, 2, 1, tzinfo=UTC), 28 * 86400.0),
    ("P1M", datetime(2028, 2, 1, tzinfo=UTC), 29 * 86400.0),
    ("P1Y", datetime(2028, 1, 1, tzinfo=UTC), 366 * 86400.0),
])
def test_iso_duration_seconds(text: str, start: datetime, seconds: float) -> None:
    assert iso_duration_seconds(text, start) == seconds


def test_iso_duration_seconds_refuses_non_durations() -> None:
    with pytest.raises(ExpressionError):
        iso_duration_seconds("5WD", local(2026, 1, 1))
