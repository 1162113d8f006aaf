"""How Parkflow writes a moment, a day and a time limit: one format per language, everywhere.

Pages (the Jinja filters in ``webapp.pages.i18n``), notifications and e-mails all call these
functions, so a time reads the same wherever it is shown:

* a moment: ``2026年12月14日 14:07`` / ``14 Dec 2026, 14:07``;
* a day: ``2026年12月14日`` / ``14 Dec 2026``;
* a time limit: a limit in working days ends at the end of a working day, so only its day
  is told, with the weekday: ``12月11日（周五）`` / ``Fri 11 Dec`` (the year only when it is
  not the current one); any other limit is a moment;
* how far off a limit is, in working days: ``3个工作日后`` / ``in 3 working days``.

Nothing here needs a request: the caller passes the language, the park's time zone and,
where it matters, the time its working day ends. The API keeps ISO 8601.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from engine import WorkCalendar

ZH = "zh_CN"
_MOMENT = {ZH: "y年M月d日 HH:mm", "en": "d MMM y, HH:mm"}
_DAY = {ZH: "y年M月d日", "en": "d MMM y"}
_WEEKDAY_DAY = {ZH: "M月d日（EEE）", "en": "EEE d MMM"}
_WEEKDAY_DAY_YEAR = {ZH: "y年M月d日（EEE）", "en": "EEE d MMM y"}
_MAX_COUNTED = 400  # working days counted for "in n working days"; beyond, the date says it


def _language(locale: str) -> str:
    return ZH if locale.startswith("zh") else "en"


def moment_text(value: datetime, zone: ZoneInfo, locale: str) -> str:
    """A moment in the park's time zone: 2026年12月14日 14:07 / 14 Dec 2026, 14:07."""
    language = _language(locale)
    return format_datetime(value, _MOMENT[language], tzinfo=zone, locale=language)


def day_text(value: datetime | date, zone: ZoneInfo, locale: str) -> str:
    """A day (a moment's local day): 2026年12月14日 / 14 Dec 2026."""
    language = _language(locale)
    day = value.astimezone(zone).date() if isinstance(value, datetime) else value
    return format_date(day, _DAY[language], locale=language)


def ends_a_working_day(value: datetime, zone: ZoneInfo, day_ends: time) -> bool:
    """Whether ``value`` is exactly the end of a working day: a limit in working days.

    Such limits are computed to the park's day end on the minute; other limits (hours, an
    expression, a fixed date-time) carry the seconds of the moment they were set.
    """
    local = value.astimezone(zone)
    return local.time().replace(tzinfo=None) == day_ends


def due_text(
    value: datetime, zone: ZoneInfo, day_ends: time, locale: str, *, today: date | None = None
) -> str:
    """A time limit: its day with the weekday when it ends a working day, else the moment."""
    if not ends_a_working_day(value, zone, day_ends):
        return moment_text(value, zone, locale)
    return weekday_text(value, zone, locale, today=today)


def weekday_text(value: datetime, zone: ZoneInfo, locale: str, *, today: date | None = None) -> str:
    """A day with its weekday: 12月11日（周五） / Fri 11 Dec (the year when not this one).

    A promise is told so even after a correction moved it by the hours the enterprise took.
    """
    language = _language(locale)
    day = value.astimezone(zone).date()
    this_year = (today or datetime.now(zone).date()).year
    pattern = (_WEEKDAY_DAY if day.year == this_year else _WEEKDAY_DAY_YEAR)[language]
    return format_date(day, pattern, locale=language)


def working_days_until(value: datetime, calendar: WorkCalendar, now: datetime) -> int | None:
    """Working days from today to the day of ``value`` (0 today, negative when past).

    None when too far to be worth counting.
    """
    zone = calendar.timezone
    today, day = now.astimezone(zone).date(), value.astimezone(zone).date()
    step = 1 if day >= today else -1
    count, cursor = 0, today
    while cursor != day:
        if abs(count) > _MAX_COUNTED or abs((day - cursor).days) > _MAX_COUNTED * 2:
            return None
        cursor += timedelta(days=step)
        if calendar.is_working_day(cursor):
            count += step
    return count


def relative_working_days(
    value: datetime, calendar: WorkCalendar, locale: str, *, now: datetime | None = None
) -> str:
    """How far off a limit is: 今天 / 3个工作日后 / 已过 2个工作日 (today / in 3 working days /
    2 working days ago); empty when it is too far to count."""
    count = working_days_until(value, calendar, now or datetime.now(UTC))
    if count is None:
        return ""
    zh = _language(locale) == ZH
    if count == 0:
        return "今天" if zh else "today"
    if count > 0:
        if zh:
            return f"{count}个工作日后"
        return "in 1 working day" if count == 1 else f"in {count} working days"
    if zh:
        return f"已过{-count}个工作日"
    return "1 working day ago" if count == -1 else f"{-count} working days ago"


def waiting_text(
    since: datetime, calendar: WorkCalendar, locale: str, *, now: datetime | None = None
) -> str:
    """How long a task has waited, in working days: 3个工作日 / 3 working days (不到1个工作日
    / under 1 working day the day it arrived); empty when too long to count."""
    count = working_days_until(since, calendar, now or datetime.now(UTC))
    if count is None:
        return ""
    days = max(-count, 0)
    zh = _language(locale) == ZH
    if days == 0:
        return "不到1个工作日" if zh else "under 1 working day"
    if zh:
        return f"{days}个工作日"
    return "1 working day" if days == 1 else f"{days} working days"


__all__ = [
    "day_text",
    "due_text",
    "ends_a_working_day",
    "moment_text",
    "relative_working_days",
    "waiting_text",
    "weekday_text",
    "working_days_until",
]
