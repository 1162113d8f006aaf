"""The park calendar: statutory holidays and make-up days, park entries, unknown years."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engine import resolve_due
from engine.calendars import ParkCalendar, statutory_year_known, subtract_working_days
from engine.worktime import add_working_days, end_of_working_days

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = ParkCalendar()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.mark.parametrize(("day", "working"), [
    (date(2025, 1, 26), True),    # Sunday, make-up day before the Spring Festival
    (date(2025, 1, 28), False),   # 除夕, Tuesday
    (date(2025, 2, 4), False),    # last day of the Spring Festival, Tuesday
    (date(2025, 2, 8), True),     # Saturday, make-up day after it
    (date(2025, 2, 9), False),    # an ordinary Sunday
    (date(2025, 9, 28), True),    # Sunday, make-up day before National Day
    (date(2025, 10, 1), False),
    (date(2025, 10, 8), False),   # National Day and Mid-Autumn together: eight days off
    (date(2025, 10, 9), True),
    (date(2025, 10, 11), True),   # Saturday, make-up day
    (date(2026, 1, 4), True),     # Sunday, make-up day after New Year
    (date(2026, 2, 14), True),    # Saturday, make-up day before the Spring Festival
    (date(2026, 2, 16), False),
    (date(2026, 2, 23), False),   # Monday, still the Spring Festival
    (date(2026, 2, 28), True),    # Saturday, make-up day after it
    (date(2026, 9, 20), True),    # Sunday, make-up day before National Day
    (date(2026, 10, 7), False),
    (date(2026, 10, 10), True),   # Saturday, make-up day
])
def test_statutory_holidays_and_make_up_days(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


def test_working_days_skip_the_2025_spring_festival() -> None:
    # Friday 24 January 2025, 10:00: Sunday 26th is worked, 28th to 4th February are not
    start = at(2025, 1, 24, 10)
    assert add_working_days(start, 1, CALENDAR) == at(2025, 1, 26, 10)
    assert add_working_days(start, 2, CALENDAR) == at(2025, 1, 27, 10)
    assert add_working_days(start, 3, CALENDAR) == at(2025, 2, 5, 10)
    # from Monday 27 January: 5, 6, 7 and Saturday 8 February, then Monday 10th
    assert resolve_due("4WD", start=at(2025, 1, 27, 9), calendar=CALENDAR) == at(
        2025, 2, 8, 17, 30)
    assert resolve_due("5WD", start=at(2025, 1, 27, 9), calendar=CALENDAR) == at(
        2025, 2, 10, 17, 30)


def test_working_days_skip_the_2026_spring_festival() -> None:
    # Friday 13 February 2026: Saturday 14th is worked, 15th to 23rd are not
    start = at(2026, 2, 13, 16, 30)
    assert add_working_days(start, 1, CALENDAR) == at(2026, 2, 14, 16, 30)
    assert add_working_days(start, 2, CALENDAR) == at(2026, 2, 24, 16, 30)
    assert add_working_days(start, 5, CALENDAR) == at(2026, 2, 27, 16, 30)
    assert add_working_days(start, 6, CALENDAR) == at(2026, 2, 28, 16, 30)


def test_working_days_skip_national_day() -> None:
    # 2025: Tuesday 30 September + 1WD is Thursday 9 October; 3WD is Saturday 11th
    assert add_working_days(at(2025, 9, 30, 9), 1, CALENDAR) == at(2025, 10, 9, 9)
    assert add_working_days(at(2025, 9, 30, 9), 3, CALENDAR) == at(2025, 10, 11, 9)
    # 2026: Wednesday 30 September + 1WD is Thursday 8 October
    assert add_working_days(at(2026, 9, 30, 9), 1, CALENDAR) == at(2026, 10, 8, 9)


def test_a_start_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert add_working_days(at(2025, 10, 3, 11), 0, CALENDAR) == at(2025, 10, 9, 11)
    assert add_working_days(at(2025, 10, 3, 11), 1, CALENDAR) == at(2025, 10, 10, 11)


def test_park_entries_win_over_the_statutory_schedule() -> None:
    calendar = ParkCalendar(overrides={date(2026, 2, 14): "holiday",
                                       date(2026, 2, 16): "workday"})
    assert not calendar.is_working_day(date(2026, 2, 14))
    assert calendar.is_working_day(date(2026, 2, 16))
    assert add_working_days(at(2026, 2, 13, 9), 1, calendar) == at(2026, 2, 16, 9)


def test_an_unknown_year_falls_back_to_weekends_and_warns_once(
        caplog: pytest.LogCaptureFixture) -> None:
    assert not statutory_year_known(2027)
    assert statutory_year_known(2026)
    with caplog.at_level(logging.WARNING, logger="engine.calendars"):
        # Thursday 31 December 2026 + 5WD runs into 2027: weekends only there
        due = resolve_due("5WD", start=at(2026, 12, 31, 10), calendar=CALENDAR)
        assert due == at(2027, 1, 7, 17, 30)
        assert not CALENDAR.is_working_day(date(2027, 1, 9))  # a Saturday
        assert CALENDAR.is_working_day(date(2027, 2, 8))     # a Monday, whatever it will be
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) <= 1  # once per process: another test may have warned already
    assert not CALENDAR.knows_year(2027)


def test_the_warning_names_the_year(caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import calendars

    monkeypatch.setattr(calendars, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="engine.calendars"):
        ParkCalendar().is_working_day(date(2030, 5, 1))
        ParkCalendar().is_working_day(date(2030, 5, 2))
    messages = [r.getMessage() for r in caplog.records if r.name == "engine.calendars"]
    assert len(messages) == 1 and "2030" in messages[0]


def test_park_entries_fill_in_an_unknown_year() -> None:
    # the 2027 Spring Festival as a park enters it before the package knows it
    entries = {date(2027, 2, 5): "holiday", date(2027, 2, 8): "holiday",
               date(2027, 2, 20): "workday"}
    calendar = ParkCalendar(overrides=entries)  # type: ignore[arg-type]
    assert add_working_days(at(2027, 2, 4, 9), 1, calendar) == at(2027, 2, 9, 9)
    assert calendar.is_working_day(date(2027, 2, 20))


def test_subtracting_working_days_mirrors_adding() -> None:
    # one working day before Monday 9 February 2026 is Friday 6 February
    assert subtract_working_days(at(2026, 2, 9, 17), 1, CALENDAR) == at(2026, 2, 6, 17)
    # one before Tuesday 24 February 2026 (after the Spring Festival) is Saturday 14th
    assert subtract_working_days(at(2026, 2, 24, 9), 1, CALENDAR) == at(2026, 2, 14, 9)
    # a holiday end counts from the working day before it
    assert subtract_working_days(at(2025, 10, 4, 9), 0, CALENDAR) == at(2025, 9, 30, 9)
    for start in (at(2025, 1, 20, 9), at(2026, 2, 10, 14), at(2025, 9, 25, 8)):
        for n in range(8):
            assert subtract_working_days(add_working_days(start, n, CALENDAR), n,
                                         CALENDAR) == start


def test_calendars_compare_by_what_they_say() -> None:
    one = ParkCalendar("Asia/Shanghai", overrides={date(2026, 5, 9): "workday"})
    same = ParkCalendar(SHANGHAI, overrides={date(2026, 5, 9): "workday"})
    other = ParkCalendar(SHANGHAI, overrides={date(2026, 5, 9): "holiday"})
    assert one == same and hash(one) == hash(same)
    assert one != other
    assert ParkCalendar("Asia/Urumqi").timezone == ZoneInfo("Asia/Urumqi")
    with pytest.raises(ValueError, match="workday"):
        ParkCalendar(overrides={date(2026, 5, 9): "maybe"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        one.overrides[date(2026, 5, 10)] = "holiday"  # type: ignore[index]


def test_without_the_statutory_schedule_only_weekends_count() -> None:
    plain = ParkCalendar(statutory=False)
    assert plain.is_working_day(date(2025, 10, 1))
    assert not plain.is_working_day(date(2025, 9, 28))


# --- a limit in working days ends with the working day ----------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "ends"),
    [
        # Saturday 5 December 2026, 02:06: the day of filing does not count, Monday 7th is the
        # first working day after it, five working days end Friday
        (at(2026, 12, 5, 2, 6), 5, at(2026, 12, 11, 17, 30)),
        (at(2026, 12, 5, 2, 6), 3, at(2026, 12, 9, 17, 30)),
        (at(2026, 12, 6, 23, 59), 1, at(2026, 12, 7, 17, 30)),  # Sunday night: Monday is the first
        (
            at(2026, 12, 7, 9, 0),
            3,
            at(2026, 12, 10, 17, 30),
        ),  # Monday morning: Tuesday is the first
        (at(2026, 12, 7, 9, 0), 4, at(2026, 12, 11, 17, 30)),
        (at(2026, 12, 7, 18, 0), 3, at(2026, 12, 10, 17, 30)),  # after hours: the same count
        (at(2026, 12, 7, 17, 30), 0, at(2026, 12, 8, 17, 30)),  # at the end of the day: Tuesday
        (at(2026, 12, 7, 9, 0), 0, at(2026, 12, 7, 17, 30)),  # 0WD: the end of that very day
        # Wednesday 30 September 2026: 1 to 7 October are the National Day holiday
        (at(2026, 9, 30, 10, 0), 1, at(2026, 10, 8, 17, 30)),
        (at(2026, 10, 3, 10, 0), 0, at(2026, 10, 8, 17, 30)),  # filed in the holiday
        # filed in the holiday: 8, 9, 10 (the make-up Saturday), 12 and 13 October
        (at(2026, 10, 3, 10, 0), 5, at(2026, 10, 13, 17, 30)),
        # Friday 9 October 2026: Saturday 10th is a make-up working day (调休)
        (at(2026, 10, 9, 11, 0), 1, at(2026, 10, 10, 17, 30)),
        (at(2026, 10, 9, 11, 0), 2, at(2026, 10, 12, 17, 30)),
        (at(2026, 10, 10, 8, 0), 0, at(2026, 10, 10, 17, 30)),  # filed on the make-up Saturday
        (at(2026, 10, 9, 18, 0), 1, at(2026, 10, 10, 17, 30)),  # Friday after hours: the Saturday
    ],
)
def test_a_working_day_limit_ends_at_the_end_of_its_last_day(
        start: datetime, days: int, ends: datetime) -> None:
    assert end_of_working_days(start, days, CALENDAR) == ends
    assert resolve_due(f"{days}WD", start=start, calendar=CALENDAR) == ends


def test_the_end_of_the_working_day_is_the_parks_choice() -> None:
    late = ParkCalendar(day_ends=time(23, 59))
    assert late != CALENDAR
    # 18:00 is still within a day that ends at 23:59: received the same day
    assert resolve_due("3WD", start=at(2026, 12, 7, 18, 0), calendar=late) == at(
        2026, 12, 10, 23, 59)


def test_an_hour_limit_keeps_its_minute() -> None:
    assert resolve_due("PT48H", start=at(2026, 12, 5, 2, 6), calendar=CALENDAR) == at(
        2026, 12, 7, 2, 6)
