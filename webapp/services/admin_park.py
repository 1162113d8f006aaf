"""The park's own configuration: edited forms, settings, time zone and calendar, incidents.

Refusals are ``Invalid`` with ``details`` mapping each form field to problem codes, as in
``admin_people``; every change is written to the audit log with what it was before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms import schema_problems
from webapp.models import CalendarDay, Group, Job, Park
from webapp.services import audit, jobs
from webapp.services.admin_people import refuse
from webapp.services.admin_processes import FORMS_SETTING, edited_forms
from webapp.services.calendars import (
    DAY_END_SETTING,
    calendar_changed,
    day_end_of,
    park_calendar,
)
from webapp.services.errors import Invalid, NotFound
from webapp.services.notifications import WEBHOOK_FORMATS

FORM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
MAX_FORM_BYTES = 256 * 1024
MAX_URL = 2000
MAX_SENDER = 255
OUTLOOK_DAYS = 30
EARLIEST_DAY_END = time(12, 0)  # a working day ending before noon is a typo
MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class Webhook:
    """One webhook the park's notifications are posted to."""

    url: str
    format: str


@dataclass(frozen=True)
class Outlook:
    """One coming day of the park's calendar."""

    day: date
    working: bool
    override: str | None  # the park's own entry for that day, if any


# --- forms -------------------------------------------------------------------------------


def parse_form(text: str) -> dict[str, Any]:
    """The JSON Schema written in the form editor; Invalid with the reason when unusable."""
    if len(text.encode("utf-8")) > MAX_FORM_BYTES:
        raise refuse("schema", "too_long", "the form is larger than 256 KB")
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise Invalid(f"not valid JSON: {exc}", details={"schema": ["bad_json", str(exc)]}) \
            from None
    problems = schema_problems(schema)
    if problems:
        raise Invalid(problems[0], details={"schema": ["bad_schema", *problems]})
    if _holds_nul(schema):
        raise Invalid("the form holds a NUL character",
                      details={"schema": ["bad_json", "\\u0000 cannot be stored"]})
    return dict(schema)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def save_form(session: Session, park: Park, *, actor: str, key: str,
              schema: Mapping[str, Any], current: Mapping[str, Any] | None) -> bool:
    """Keep ``schema`` as the park's form ``key``; False when it is unchanged."""
    if not FORM_KEY.fullmatch(key):
        raise refuse("key", "bad_form_key", f"form key {key!r} is not valid")
    problems = schema_problems(schema)
    if problems:
        raise Invalid(problems[0], details={"schema": ["bad_schema", *problems]})
    if current is not None and dict(current) == dict(schema):
        return False
    stored = edited_forms(park)
    stored[key] = {"schema": dict(schema), "saved_at": datetime.now(UTC).isoformat(),
                   "saved_by": actor}
    park.settings = {**park.settings, FORMS_SETTING: stored}
    session.flush()
    audit.record(session, park_id=park.id, actor=actor, action="form.saved",
                 details={"form_key": key}, before={"schema": current} if current else None,
                 after={"schema": dict(schema)})
    return True


# --- settings ------------------------------------------------------------------------------


def webhooks_of(park: Park) -> list[Webhook]:
    """The park's webhooks as stored (also the plain-URL form older settings used)."""
    found = []
    for entry in park.settings.get("webhooks") or ():
        if isinstance(entry, str):
            found.append(Webhook(entry, "json"))
        elif isinstance(entry, Mapping):
            found.append(Webhook(str(entry.get("url") or ""), str(entry.get("format") or "json")))
    return found


def update_settings(session: Session, park: Park, *, actor: str, scripts_enabled: bool,
                    webhooks: Iterable[Webhook], email_sender: str,
                    default_escalation_group: str) -> None:
    """Change the park's script policy, webhooks, e-mail sender and default escalation."""
    hooks = [_checked_webhook(index, hook) for index, hook in enumerate(webhooks)
             if hook.url.strip()]
    sender = email_sender.strip()
    if sender and (len(sender) > MAX_SENDER or "@" not in parseaddr(sender)[1]):
        raise refuse("email_sender", "bad_email", f"{sender!r} is not an e-mail address")
    group = default_escalation_group.strip()
    if group and session.scalars(select(Group.id).where(
            Group.park_id == park.id, Group.name == group)).first() is None:
        raise refuse("default_escalation_group", "unknown", f"no group {group!r} in this park")
    keys = ("scripts_enabled", "webhooks", "email_sender", "default_escalation_group")
    before = {key: park.settings.get(key) for key in keys}
    after = {"scripts_enabled": scripts_enabled,
             "webhooks": [{"url": h.url, "format": h.format} for h in hooks],
             "email_sender": sender or None, "default_escalation_group": group or None}
    park.settings = {**park.settings, **after}
    session.flush()
    audit.record(session, park_id=park.id, actor=actor, action="park.settings_changed",
                 details={"changed": sorted(k for k in keys if before[k] != after[k])},
                 before=before, after=after)


def _checked_webhook(index: int, hook: Webhook) -> Webhook:
    url = hook.url.strip()
    if len(url) > MAX_URL or not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url):
        raise refuse(f"webhook_url_{index}", "bad_url", f"{url!r} is not an http(s) address")
    if hook.format not in WEBHOOK_FORMATS:
        raise refuse(f"webhook_format_{index}", "bad_format", f"format {hook.format!r}")
    return Webhook(url, hook.format)


# --- time zone and calendar ----------------------------------------------------------------


@cache
def known_timezones() -> tuple[str, ...]:
    """Every IANA time zone name, sorted."""
    return tuple(sorted(available_timezones() - {"localtime", "posixrules", "Factory"}))


def set_timezone(session: Session, park: Park, *, actor: str, timezone: str) -> None:
    """Move the park to another time zone (due dates are computed in it from now on)."""
    if timezone not in known_timezones():
        raise refuse("timezone", "bad_timezone", f"time zone {timezone!r} is not known")
    before = park.timezone
    if before == timezone:
        return
    park.timezone = timezone
    session.flush()
    calendar_changed(session, park)
    audit.record(session, park_id=park.id, actor=actor, action="park.timezone_changed",
                 details={"timezone": timezone}, before={"timezone": before},
                 after={"timezone": timezone})


def set_working_day_end(session: Session, park: Park, *, actor: str, ends: str) -> None:
    """Set when the park's working day ends ("HH:MM", 12:00 to 23:59): limits in working days
    run to it from now on."""
    text = ends.strip()
    try:
        parsed = time.fromisoformat(text) if re.fullmatch(r"\d{2}:\d{2}", text) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed < EARLIEST_DAY_END:
        raise refuse("working_day_ends", "bad_time",
                     f"{text!r} is not a time between 12:00 and 23:59 (HH:MM)")
    before = day_end_of(park)
    if before == parsed:
        return
    park.settings = {**park.settings, DAY_END_SETTING: parsed.strftime("%H:%M")}
    session.flush()
    calendar_changed(session, park)
    audit.record(session, park_id=park.id, actor=actor, action="park.day_end_changed",
                 details={"working_day_ends": parsed.strftime("%H:%M")},
                 before={"working_day_ends": before.strftime("%H:%M")},
                 after={"working_day_ends": parsed.strftime("%H:%M")})


def remove_calendar_day(session: Session, park: Park, *, actor: str, day: date) -> None:
    """Drop the park's own entry for ``day``: the statutory calendar decides again."""
    entry = session.get(CalendarDay, (park.id, day))
    if entry is None:
        raise NotFound(f"calendar entry {day.isoformat()}")
    kind = entry.kind
    session.delete(entry)
    session.flush()
    calendar_changed(session, park)
    audit.record(session, park_id=park.id, actor=actor, action="calendar.day_removed",
                 details={"day": day.isoformat()}, before={"kind": kind}, after=None)


def calendar_days(session: Session, park: Park) -> list[CalendarDay]:
    """The park's own workday and holiday entries, by date."""
    return list(session.scalars(select(CalendarDay).where(CalendarDay.park_id == park.id)
                                .order_by(CalendarDay.day)))


def outlook(session: Session, park: Park, today: date, days: int = OUTLOOK_DAYS) -> list[Outlook]:
    """Working or not, for each of the coming ``days`` days from ``today`` (park time)."""
    calendar = park_calendar(park, session)
    overrides = calendar.overrides
    return [Outlook(day, calendar.is_working_day(day), overrides.get(day))
            for day in (today + timedelta(days=n) for n in range(days))]


# --- incidents -------------------------------------------------------------------------------


def retry_incident(session: Session, park: Park, *, actor: str, job_id: int) -> Job:
    """Queue a failed job of the park again, due now."""
    job = session.get(Job, job_id) if 0 < job_id <= MAX_BIGINT else None
    if job is None or job.park_id != park.id:
        raise NotFound(f"incident {job_id}")
    before = {"status": job.status, "attempts": job.attempts}
    retried = jobs.retry_incident(session, job_id)
    session.flush()
    audit.record(session, park_id=park.id, actor=actor, action="incident.retried",
                 instance_id=retried.instance_id,
                 details={"job_id": job_id, "kind": retried.kind},
                 before=before, after={"status": retried.status, "attempts": 0})
    return retried


__all__ = [
    "Outlook",
    "Webhook",
    "calendar_days",
    "known_timezones",
    "outlook",
    "parse_form",
    "remove_calendar_day",
    "retry_incident",
    "save_form",
    "set_timezone",
    "set_working_day_end",
    "update_settings",
    "webhooks_of",
]
