"""Languages: Simplified Chinese (the default) and English, chosen by the user or the browser.

The choice made with the language switch is kept in the session and, for a signed-in user,
in ``User.locale``; without one the browser's Accept-Language decides. Times are shown in the
current park's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Blueprint, Flask, abort, g, redirect, request, session
from flask_babel import Babel, format_timedelta, get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from engine import DEFAULT_DAY_END, ParkCalendar
from webapp.dates import (
    day_text,
    due_text,
    moment_text,
    relative_working_days,
    waiting_text,
    weekday_text,
)
from webapp.extensions import store
from webapp.models import DEFAULT_TIMEZONE, Park, User
from webapp.pages.access import NoPark, here, safe_next
from webapp.services.calendars import park_calendar

bp = Blueprint("i18n", __name__)
babel = Babel()
DEFAULT_LOCALE = "zh_CN"
LOCALES = {"zh_CN": "简体中文", "en": "English"}
LOCALE_KEY = "parkflow_locale"
LANGUAGE_TAGS = {"zh_CN": "zh-CN", "en": "en"}


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` and give the templates their formatting filters."""
    babel.init_app(app, default_locale=DEFAULT_LOCALE, locale_selector=select_locale,
                   timezone_selector=select_timezone)
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["due"] = due
    app.jinja_env.filters["promise"] = promise
    app.jinja_env.filters["size"] = size
    app.jinja_env.filters["in_working_days"] = in_working_days
    app.jinja_env.filters["relative"] = relative
    app.jinja_env.filters["waited"] = waited
    app.jinja_env.globals["LOCALES"] = LOCALES
    app.jinja_env.globals["language_tag"] = language_tag
    app.jinja_env.globals["now_utc"] = lambda: datetime.now(UTC)


def select_locale() -> str:
    """The session's choice, then the user's saved one, then the browser's, then Chinese."""
    chosen = session.get(LOCALE_KEY)
    if chosen in LOCALES:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    return request.accept_languages.best_match(list(LOCALES), default=DEFAULT_LOCALE)


def select_timezone() -> str | None:
    """The time zone of the park the user is working in."""
    if not (current_user and current_user.is_authenticated):
        return None
    cached = g.get("parkflow_timezone")
    if cached is None:
        try:
            cached = here().park.timezone
        except NoPark:
            cached = DEFAULT_TIMEZONE
        g.parkflow_timezone = cached
    return str(cached)


def language_tag() -> str:
    """The BCP 47 tag of the page's language, for ``<html lang>``."""
    return LANGUAGE_TAGS.get(select_locale(), "zh-CN")


def when(value: datetime | None) -> str:
    """A moment as local date and time: 2026年3月2日 09:00 / 2 Mar 2026, 09:00."""
    return moment_text(value, _zone(), _locale()) if value is not None else ""


def day(value: datetime | date | None) -> str:
    """A local date: 2026年3月2日 / 2 Mar 2026."""
    return day_text(value, _zone(), _locale()) if value is not None else ""


def due(value: datetime | None) -> str:
    """A time limit: 3月11日（周三） / Wed 11 Mar when it ends a working day, else the moment."""
    if value is None:
        return ""
    calendar = _calendar()
    day_ends = calendar.day_ends if calendar is not None else DEFAULT_DAY_END
    return due_text(value, _zone(), day_ends, _locale())


def promise(value: datetime | None) -> str:
    """A promised date: its day and weekday, 3月30日（周一） / Mon 30 Mar."""
    return weekday_text(value, _zone(), _locale()) if value is not None else ""


def in_working_days(value: datetime | None) -> str:
    """How far off a limit is in the park's working days: 3个工作日后 / in 3 working days."""
    calendar = _calendar()
    if value is None or calendar is None:
        return ""
    return relative_working_days(value, calendar, _locale())


def waited(value: datetime | None) -> str:
    """How long since ``value`` in the park's working days: 3个工作日 / 3 working days."""
    calendar = _calendar()
    if value is None or calendar is None:
        return ""
    return waiting_text(value, calendar, _locale())


def size(value: int | None) -> str:
    """A file's size as people read it: 0.3 KB, 12 KB, 1.5 MB (never "0 KB" for a file)."""
    return file_size(value, _locale()) if value is not None else ""


def file_size(count: int, locale: str) -> str:
    """``count`` bytes in KB below 1 MB, else in MB; one decimal below ten, a tenth at least."""
    kilobytes = count / 1024
    amount, unit = (kilobytes, "KB") if kilobytes < 1024 else (kilobytes / 1024, "MB")
    if count > 0:
        amount = max(amount, 0.1)
    pattern = "0.#" if amount < 10 else "0"
    return f"{format_decimal(amount, pattern, locale=locale)} {unit}"


def _locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def _calendar() -> ParkCalendar | None:
    """The working calendar of the park the user works in (None when signed out)."""
    if "parkflow_calendar" not in g:
        g.parkflow_calendar = None
        if current_user and current_user.is_authenticated:
            try:
                park_id = here().park.id
            except NoPark:
                return None
            with store.database.read() as db_session:
                park = db_session.get(Park, park_id)
                if park is not None:
                    g.parkflow_calendar = park_calendar(park, db_session)
    found: ParkCalendar | None = g.parkflow_calendar
    return found


def _zone() -> ZoneInfo:
    """The time zone pages show times in (the park's; Shanghai when signed out)."""
    zone = g.get("parkflow_zone")
    if zone is None:
        zone = ZoneInfo(select_timezone() or DEFAULT_TIMEZONE)
        g.parkflow_zone = zone
    return zone


def relative(value: datetime | None) -> str:
    """How far a moment is from now, e.g. “in 2 days” or “3 hours ago”."""
    if value is None:
        return ""
    return str(format_timedelta(value - datetime.now(UTC), granularity="minute",
                                add_direction=True))


@bp.route("/language", methods=["POST"])
def switch() -> Response:
    """Switch the language of the pages (and remember it for a signed-in user)."""
    chosen = request.form.get("locale", "")
    if chosen not in LOCALES:
        abort(400)
    session[LOCALE_KEY] = chosen
    if current_user.is_authenticated:
        with store.database.write() as db_session:
            user = db_session.get(User, current_user.id)
            if user is not None:
                user.locale = chosen
    return redirect(safe_next(request.form.get("next"), "/"))

