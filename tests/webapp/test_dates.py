"""One way to write a moment, a day and a time limit per language."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine import ParkCalendar, resolve_due
from webapp.dates import (
    day_text,
    due_text,
    ends_a_working_day,
    moment_text,
    relative_working_days,
    weekday_text,
    working_days_until,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = ParkCalendar()
DAY_END = time(17, 30)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("locale", "moment", "day"),
    [
        ("zh_CN", "2026年12月14日 14:07", "2026年12月14日"),
        ("zh_Hans_CN", "2026年12月14日 14:07", "2026年12月14日"),
        ("en", "14 Dec 2026, 14:07", "14 Dec 2026"),
    ],
)
def test_a_moment_and_a_day_per_language(locale: str, moment: str, day: str) -> None:
    value = datetime(2026, 12, 14, 6, 7, 30, tzinfo=UTC)  # stored in UTC, shown in the park's
    assert moment_text(value, SHANGHAI, locale) == moment
    assert day_text(value, SHANGHAI, locale) == day
    assert day_text(date(2026, 12, 14), SHANGHAI, locale) == day


def test_a_working_day_limit_is_told_by_its_day() -> None:
    # filed Saturday 5 December 2026, 02:06, five working days (Monday the first): Friday's end
    due = resolve_due("5WD", start=at(2026, 12, 5, 2, 6), calendar=CALENDAR)
    assert ends_a_working_day(due, SHANGHAI, DAY_END)
    today = date(2026, 12, 5)
    assert due_text(due, SHANGHAI, DAY_END, "zh_CN", today=today) == "12月11日（周五）"
    assert due_text(due, SHANGHAI, DAY_END, "en", today=today) == "Fri 11 Dec"
    # another year names its year
    late = resolve_due("5WD", start=at(2026, 12, 31, 10), calendar=CALENDAR)
    assert due_text(late, SHANGHAI, DAY_END, "zh_CN", today=today) == "2027年1月7日（周四）"


def test_an_hour_limit_is_told_to_the_minute() -> None:
    due = resolve_due("PT48H", start=at(2026, 12, 5, 2, 6, 13), calendar=CALENDAR)
    assert not ends_a_working_day(due, SHANGHAI, DAY_END)
    assert due_text(due, SHANGHAI, DAY_END, "zh_CN") == "2026年12月7日 02:06"
    assert due_text(due, SHANGHAI, DAY_END, "en") == "7 Dec 2026, 02:06"


def test_how_far_off_in_working_days() -> None:
    now = at(2026, 9, 30, 10)  # before the National Day holiday (1 to 7 October)
    due = at(2026, 10, 9, 17, 30)
    assert working_days_until(due, CALENDAR, now) == 2  # 8 and 9 October
    assert relative_working_days(due, CALENDAR, "zh_CN", now=now) == "2个工作日后"
    assert relative_working_days(due, CALENDAR, "en", now=now) == "in 2 working days"
    assert relative_working_days(at(2026, 9, 30, 17, 30), CALENDAR, "zh_CN", now=now) == "今天"
    assert relative_working_days(at(2026, 9, 28, 17, 30), CALENDAR, "en", now=now) == (
        "2 working days ago"
    )
    assert relative_working_days(at(2031, 1, 1), CALENDAR, "en", now=now) == ""


def test_a_promise_moved_by_a_correction_is_still_told_by_its_day() -> None:
    moved = at(2026, 12, 10, 17, 30) + timedelta(days=2, hours=5, minutes=13)
    today = date(2026, 12, 5)
    assert weekday_text(moved, SHANGHAI, "zh_CN", today=today) == "12月12日（周六）"
    assert weekday_text(moved, SHANGHAI, "en", today=today) == "Sat 12 Dec"
