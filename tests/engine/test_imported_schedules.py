"""A park's imported statutory schedule of a year, in the working calendar."""

from __future__ import annotations

from datetime import date

from engine import ParkCalendar

SPRING_2027 = {date(2027, 2, 6 + n): "holiday" for n in range(7)} | {
    date(2027, 1, 31): "workday",
    date(2026, 12, 31): "holiday",
}


def test_an_imported_year_is_known_and_followed() -> None:
    calendar = ParkCalendar(schedules={2027: SPRING_2027})  # type: ignore[dict-item]
    assert calendar.knows_year(2027) and not ParkCalendar().knows_year(2027)
    assert calendar.imported_years == {2027}
    assert calendar.is_working_day(date(2027, 1, 31))  # a Sunday made a workday
    assert not calendar.is_working_day(date(2027, 2, 8))  # a Monday of the holiday
    assert calendar.is_working_day(date(2027, 3, 1)) and not calendar.is_working_day(
        date(2027, 3, 6)
    )  # the others follow the weekend
    # a day of the schedule in the year before (a 元旦 break) counts too
    assert not calendar.is_working_day(date(2026, 12, 31))


def test_the_import_replaces_the_package_and_yields_to_the_park_own_days() -> None:
    # the package says 1 October 2026 is a holiday; an import of 2026 that does not name it
    # makes it a plain Thursday
    assert not ParkCalendar().is_working_day(date(2026, 10, 1))
    imported = ParkCalendar(schedules={2026: {date(2026, 5, 1): "holiday"}})
    assert imported.is_working_day(date(2026, 10, 1))
    own = ParkCalendar(overrides={date(2027, 2, 8): "workday"}, schedules={2027: SPRING_2027})  # type: ignore[dict-item]
    assert own.is_working_day(date(2027, 2, 8))


def test_calendars_with_different_imports_differ() -> None:
    one = ParkCalendar(schedules={2027: {date(2027, 1, 1): "holiday"}})
    same = ParkCalendar(schedules={2027: {date(2027, 1, 1): "holiday"}})
    other = ParkCalendar(schedules={2027: {date(2027, 1, 2): "holiday"}})
    assert one == same and hash(one) == hash(same) and one != other != ParkCalendar()
