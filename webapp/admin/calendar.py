"""The park's time zone and working calendar: its own holidays and make-up workdays."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS, MESSAGES, field_messages
from webapp.extensions import store
from webapp.models import DAY_KINDS
from webapp.pages.i18n import day as day_label
from webapp.services import accounts, admin_park
from webapp.services.calendars import day_end_of
from webapp.services.errors import Invalid

bp = Blueprint("calendar", __name__)
Errors = dict[str, list[str]]


@bp.route("/calendar")
def index() -> str:
    """Show the time zone, the park's own days and the coming 30 days."""
    return _page({})


@bp.route("/calendar/timezone", methods=["POST"])
def set_timezone() -> Response | tuple[str, int]:
    """Move the park to another time zone; set when its working day ends."""
    try:
        with store.database.write() as session:
            park = current_park(session)
            admin_park.set_timezone(session, park, actor=actor(),
                                    timezone=request.form.get("timezone", ""))
            if "working_day_ends" in request.form:
                admin_park.set_working_day_end(session, park, actor=actor(),
                                               ends=request.form["working_day_ends"])
    except Invalid as exc:
        return _page(field_messages(exc), raw=dict(request.form)), 422
    flash(_("The time zone is saved."), "success")
    return redirect(url_for("admin.calendar.index"))


@bp.route("/calendar/days", methods=["POST"])
def add_day() -> Response | tuple[str, int]:
    """Mark one day as a holiday or a (make-up) workday of the park."""
    day = _date(request.form.get("day", ""))
    kind = request.form.get("kind", "")
    errors: Errors = {}
    if day is None:
        errors["day"] = [str(MESSAGES["bad_date"])]
    if kind not in DAY_KINDS:
        errors["kind"] = [str(MESSAGES["unknown"])]
    if day is None or errors:
        return _page(errors, raw=dict(request.form)), 422
    with store.database.write() as session:
        park = current_park(session)
        accounts.set_calendar_day(session, actor=actor(), park_slug=park.slug, day=day,
                                  kind=kind)
    flash(_("%(day)s is saved.", day=day_label(day)), "success")
    return redirect(url_for("admin.calendar.index"))


@bp.route("/calendar/days/<day>/delete", methods=["POST"])
def remove_day(day: str) -> Response:
    """Drop the park's own entry for a day: the statutory calendar decides again."""
    found = _date(day)
    if found is None:
        abort(404)
    with store.database.write() as session:
        admin_park.remove_calendar_day(session, current_park(session), actor=actor(), day=found)
    flash(_("The entry for %(day)s is removed.", day=day_label(found)), "success")
    return redirect(url_for("admin.calendar.index"))


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if len(raw.strip()) == 10 else None
    except ValueError:
        return None


def _page(errors: Errors, raw: dict[str, str] | None = None) -> str:
    with store.database.read() as session:
        park = current_park(session)
        today = datetime.now(ZoneInfo(park.timezone)).date()
        coming = admin_park.outlook(session, park, today)
        return render_template(
            "admin/calendar.html", timezone=park.timezone,
            day_ends=day_end_of(park).strftime("%H:%M"),
            timezones=admin_park.known_timezones(), days=admin_park.calendar_days(session, park),
            outlook=[(entry, format_date(entry.day, "EEE")) for entry in coming],
            weekdays=[format_date(day.day, "EEE") for day in sorted(
                coming[:7], key=lambda entry: entry.day.weekday())],
            lead=today.weekday(), today=today, kinds=DAY_KINDS,
            errors=errors, form_errors=errors.get(FORM_ERRORS, []), raw=raw or {})
