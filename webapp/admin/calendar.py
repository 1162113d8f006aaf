"""The park's time zone and working calendar: its own holidays and make-up workdays, and the
State Council's yearly schedule imported (pasted or as an .ics file) after a preview."""

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
from webapp.services import accounts, admin_park, holidays
from webapp.services.calendars import day_end_of
from webapp.services.errors import Invalid

bp = Blueprint("calendar", __name__)
MIN_YEAR, MAX_YEAR = 2000, 2100
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


@bp.route("/calendar/schedule", methods=["POST"])
def import_schedule() -> Response | str | tuple[str, int]:
    """Preview a year's statutory schedule (pasted or an .ics file); save it when confirmed."""
    raw = {key: request.form.get(key, "") for key in ("year", "text", "source")}
    year = int(raw["year"]) if raw["year"].isdigit() else 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        return _page({"year": [_("Choose the year of the schedule.")]}, raw=raw), 422
    upload = request.files.get("file")
    try:
        if upload is not None and upload.filename:
            schedule = holidays.parse_ics(upload.read(), year)
        elif raw["text"].strip():
            schedule = holidays.parse_pasted(raw["text"], year)
            if raw["source"] in ("pasted", "ics"):
                schedule = holidays.Schedule(schedule.year, schedule.days, raw["source"])
        else:
            return _page({"text": [_("Paste the schedule's dates or choose an .ics file.")]},
                         raw=raw), 422
    except Invalid as exc:
        field = "file" if upload is not None and upload.filename else "text"
        return _page({field: [_("The schedule cannot be read: %(reason)s", reason=exc.message)]},
                     raw=raw), 422
    if request.form.get("action") != "save":
        return _page({}, raw=raw, preview=schedule)
    with store.database.write() as session:
        holidays.save(session, current_park(session), schedule, actor=actor())
    flash(_("The schedule of %(year)d is saved: %(holidays)d holidays, %(workdays)d make-up "
            "workdays.", year=year, holidays=len(schedule.holidays),
            workdays=len(schedule.workdays)), "success")
    return redirect(url_for("admin.calendar.index"))


@bp.route("/calendar/schedule/<int:year>/delete", methods=["POST"])
def remove_schedule(year: int) -> Response:
    """Drop the imported schedule of a year: the built-in one (or weekends) applies again."""
    with store.database.write() as session:
        removed = holidays.remove(session, current_park(session), year, actor=actor())
    if not removed:
        abort(404)
    flash(_("The imported schedule of %(year)d is removed.", year=year), "success")
    return redirect(url_for("admin.calendar.index"))


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if len(raw.strip()) == 10 else None
    except ValueError:
        return None


def _page(errors: Errors, raw: dict[str, str] | None = None,
          preview: holidays.Schedule | None = None) -> str:
    with store.database.read() as session:
        park = current_park(session)
        today = datetime.now(ZoneInfo(park.timezone)).date()
        coming = admin_park.outlook(session, park, today)
        return render_template(
            "admin/calendar.html", timezone=park.timezone,
            unknown_year=holidays.coming_year_unknown(session, park, today),
            schedules=holidays.schedules(session, park), preview=preview,
            preview_text="\n".join(f"{day.isoformat()} {kind}"
                                   for day, kind in preview.days.items()) if preview else "",
            years=list(range(today.year - 1, today.year + 3)), coming_year=today.year + 1,
            day_ends=day_end_of(park).strftime("%H:%M"),
            timezones=admin_park.known_timezones(), days=admin_park.calendar_days(session, park),
            outlook=[(entry, format_date(entry.day, "EEE")) for entry in coming],
            weekdays=[format_date(day.day, "EEE") for day in sorted(
                coming[:7], key=lambda entry: entry.day.weekday())],
            lead=today.weekday(), today=today, kinds=DAY_KINDS,
            errors=errors, form_errors=errors.get(FORM_ERRORS, []), raw=raw or {})
