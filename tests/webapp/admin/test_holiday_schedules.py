"""The State Council's yearly schedule imported per park: previewed, saved, used, warned about.

The built-in package knows the years up to 2026; the clock stands in November 2026, when the
2027 schedule is published and not yet known here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from engine import add_working_days
from tests.webapp.admin.helpers import audits
from tests.webapp.apptools import Browser, text_of
from webapp.db import Database
from webapp.models import HolidaySchedule, Park
from webapp.services.calendars import park_calendar

DATA = Path(__file__).parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。
二、春节：2月6日（农历除夕）至12日放假调休，共7天。1月31日（周日）、2月20日（周六）上班。
2027-10-01..2027-10-07 holiday
"""
URL = "/admin/calendar/schedule"


@pytest.fixture(autouse=True)
def november() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=SHANGHAI), tick=False):
        yield


def stored(db: Database) -> dict[int, dict[str, str]]:
    with db.read() as session:
        return {row.year: dict(row.days) for row in session.scalars(select(HolidaySchedule))}


def working(db: Database, day: date) -> bool:
    with db.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        return park_calendar(park, session).is_working_day(day)


def listed(html: str, which: str) -> list[str]:
    found = re.search(rf'<ul class="preview-days" id="preview-{which}">(.*?)</ul>', html, re.S)
    assert found is not None, f"no {which} in the preview"
    return re.findall(r'data-day="([\d-]+)"', found.group(1))


def test_the_pasted_notice_is_previewed_without_saving(admin: Browser, parks: Database) -> None:
    answer = admin.post(URL, {"year": "2027", "text": NOTICE, "action": "preview"})

    assert answer.status_code == 200
    html = text_of(answer)
    assert listed(html, "holidays")[:4] == ["2027-01-01", "2027-01-02", "2027-01-03", "2027-02-06"]
    assert len(listed(html, "holidays")) == 3 + 7 + 7
    assert listed(html, "workdays") == ["2027-01-31", "2027-02-20"]
    assert stored(parks) == {} and audits(parks, "calendar.schedule_imported") == []
    assert not working(parks, date(2027, 1, 31))  # a Sunday: the preview changed nothing


def test_a_saved_schedule_drives_working_days(admin: Browser, parks: Database) -> None:
    preview = text_of(admin.post(URL, {"year": "2027", "text": NOTICE, "action": "preview"}))
    text = re.search(r'name="text" value="([^"]*)"', preview)
    assert text is not None

    saved = admin.post(
        URL, {"year": "2027", "text": text.group(1), "source": "pasted", "action": "save"}
    )

    assert saved.status_code == 302
    assert len(stored(parks)[2027]) == 19
    assert working(parks, date(2027, 1, 31))  # 调休: the Sunday is a workday
    assert not working(parks, date(2027, 2, 8))  # a Monday of 春节
    assert working(parks, date(2027, 3, 1))  # a Monday no entry names
    assert not working(parks, date(2027, 3, 6))  # a Saturday no entry names
    with parks.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        calendar = park_calendar(park, session)
    # Friday 5 February 2027 + 1 working day: the 6th to 12th are 春节, the 13th and 14th a
    # plain weekend, so Monday 15 February
    due = add_working_days(datetime(2027, 2, 5, 10, tzinfo=SHANGHAI), 1, calendar)
    assert due.astimezone(SHANGHAI).date() == date(2027, 2, 15)
    [event] = audits(parks, "calendar.schedule_imported")
    assert event.details == {
        "year": 2027,
        "source": "pasted",
        "holidays": 17,
        "workdays": 2,
        "replaced": False,
    }


def test_an_ics_file_is_previewed_and_saved(admin: Browser, parks: Database) -> None:
    ics = (DATA / "holidays_2027.ics").read_bytes()
    preview = admin.post(
        URL, {"year": "2027", "action": "preview", "file": (BytesIO(ics), "holidays_2027.ics")}
    )
    html = text_of(preview)
    assert preview.status_code == 200
    assert listed(html, "workdays") == ["2027-01-31"]
    assert len(listed(html, "holidays")) == 3 + 7
    assert stored(parks) == {}
    text = re.search(r'name="text" value="([^"]*)"', html)
    source = re.search(r'name="source" value="([^"]*)"', html)
    assert text is not None and source is not None and source.group(1) == "ics"
    admin.post(URL, {"year": "2027", "text": text.group(1), "source": "ics", "action": "save"})
    assert stored(parks)[2027]["2027-01-31"] == "workday"
    assert audits(parks, "calendar.schedule_imported")[0].details["source"] == "ics"


def test_the_coming_year_unknown_is_warned_about_until_imported(
    admin: Browser, parks: Database
) -> None:
    calendar_page, home = (
        text_of(admin.get("/admin/calendar")),
        text_of(admin.get("/admin/processes")),
    )
    for html in (calendar_page, home):
        assert 'id="unknown-year"' in html and "2027" in html
    admin.post(URL, {"year": "2027", "text": NOTICE, "action": "save"})
    assert 'id="unknown-year"' not in text_of(admin.get("/admin/calendar"))
    assert 'id="unknown-year"' not in text_of(admin.get("/admin/processes"))
    # removed again, the warning is back
    assert admin.post("/admin/calendar/schedule/2027/delete").status_code == 302
    assert 'id="unknown-year"' in text_of(admin.get("/admin/calendar"))
    assert [e.details for e in audits(parks, "calendar.schedule_removed")] == [{"year": 2027}]


def test_unreadable_input_shows_the_form_again(admin: Browser, parks: Database) -> None:
    vague = admin.post(URL, {"year": "2027", "text": "2027-05-01 劳动节", "action": "preview"})
    empty = admin.post(URL, {"year": "2027", "text": "", "action": "preview"})
    no_year = admin.post(URL, {"year": "", "text": NOTICE, "action": "preview"})
    not_ics = admin.post(
        URL, {"year": "2027", "action": "preview", "file": (BytesIO(b"hello"), "x.ics")}
    )
    stray = admin.post(URL, {"year": "2027", "text": "2028-01-01 放假", "action": "save"})
    assert [r.status_code for r in (vague, empty, no_year, not_ics, stray)] == [422] * 5
    assert 'id="e-text"' in text_of(vague) and 'id="e-file"' in text_of(not_ics)
    assert stored(parks) == {}
