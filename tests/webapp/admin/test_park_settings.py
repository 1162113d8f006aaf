"""The park's calendar, time zone and settings, changed by its administrator and audited."""

from __future__ import annotations

import html as markup
import re

import time_machine
from sqlalchemy import select

from tests.webapp.admin.helpers import audits
from tests.webapp.apptools import Browser, text_of
from webapp.db import Database
from webapp.models import CalendarDay, Park


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="field-error" id="e-{name}">(.*?)</div>', html, re.S)
    assert found is not None, f"no message beside {name}"
    return markup.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()))


def outlook(html: str) -> dict[str, bool]:
    """The calendar page's coming days: date -> working."""
    return {day: working == "true" for day, working in re.findall(
        r'data-day="([\d-]+)" data-working="(true|false)"', html)}


def park(db: Database) -> Park:
    with db.read() as session:
        found = session.scalars(select(Park).where(Park.slug == "demo")).one()
        session.expunge(found)
        return found


def test_the_calendar_shows_the_coming_30_days(clock: time_machine.Traveller,
                                               admin: Browser) -> None:
    days = outlook(text_of(admin.get("/admin/calendar")))
    assert len(days) == 30 and min(days) == "2026-03-02" and max(days) == "2026-03-31"
    assert days["2026-03-02"] and not days["2026-03-07"] and not days["2026-03-08"]


def test_holidays_and_workdays_are_added_and_removed(clock: time_machine.Traveller,
                                                     parks: Database, admin: Browser) -> None:
    assert admin.post("/admin/calendar/days", {"day": "2026-03-04",
                                               "kind": "holiday"}).status_code == 302
    assert admin.post("/admin/calendar/days", {"day": "2026-03-07",
                                               "kind": "workday"}).status_code == 302
    html = text_of(admin.get("/admin/calendar"))
    days = outlook(html)
    assert not days["2026-03-04"] and days["2026-03-07"]
    assert 'action="/admin/calendar/days/2026-03-04/delete"' in html
    assert admin.post("/admin/calendar/days/2026-03-04/delete").status_code == 302
    assert outlook(text_of(admin.get("/admin/calendar")))["2026-03-04"]
    [removed] = audits(parks, "calendar.day_removed")
    assert removed.before == {"kind": "holiday"} and removed.actor == "admin"
    assert [e.details["day"] for e in audits(parks, "calendar.day_set")] == [
        "2026-03-04", "2026-03-07"]
    assert admin.post("/admin/calendar/days/2026-03-04/delete").status_code == 404
    assert admin.post("/admin/calendar/days/yesterday/delete").status_code == 404


def test_bad_days_are_refused_beside_their_field(parks: Database, admin: Browser) -> None:
    for data, field in (({"day": "2026-02-30", "kind": "holiday"}, "day"),
                        ({"day": "", "kind": "holiday"}, "day"),
                        ({"day": "2026-03-04", "kind": "party"}, "kind")):
        answer = admin.post("/admin/calendar/days", data)
        assert answer.status_code == 422 and field_error(text_of(answer), field), data
    with parks.read() as session:
        assert session.scalars(select(CalendarDay)).first() is None


def test_the_time_zone_is_changed(parks: Database, admin: Browser) -> None:
    assert admin.post("/admin/calendar/timezone",
                      {"timezone": "Asia/Urumqi"}).status_code == 302
    assert park(parks).timezone == "Asia/Urumqi"
    [event] = audits(parks, "park.timezone_changed")
    assert event.before == {"timezone": "Asia/Shanghai"}
    for zone in ("Mars/Olympus", "localtime", ""):
        answer = admin.post("/admin/calendar/timezone", {"timezone": zone})
        assert answer.status_code == 422 and field_error(text_of(answer), "timezone")
    assert park(parks).timezone == "Asia/Urumqi"


def test_the_end_of_the_working_day_is_set(parks: Database, admin: Browser) -> None:
    assert 'value="17:30"' in text_of(admin.get("/admin/calendar"))
    assert admin.post("/admin/calendar/timezone", {
        "timezone": "Asia/Shanghai", "working_day_ends": "23:59"}).status_code == 302
    assert park(parks).settings["working_day_ends"] == "23:59"
    [event] = audits(parks, "park.day_end_changed")
    assert (event.before, event.after) == ({"working_day_ends": "17:30"},
                                           {"working_day_ends": "23:59"})
    for ends in ("25:00", "9:00", "08:00", "noon", ""):
        answer = admin.post("/admin/calendar/timezone",
                            {"timezone": "Asia/Shanghai", "working_day_ends": ends})
        assert answer.status_code == 422 and field_error(text_of(answer), "working_day_ends")
    assert park(parks).settings["working_day_ends"] == "23:59"


def test_the_settings_are_saved_and_audited(parks: Database, admin: Browser) -> None:
    answer = admin.post("/admin/settings", {
        "webhook_url_0": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "webhook_format_0": "wecom", "webhook_url_1": "", "webhook_format_1": "json",
        "webhook_url_2": "https://oapi.dingtalk.com/robot/send?access_token=x",
        "webhook_format_2": "dingtalk",
        "email_sender": "园区服务中心 <service@park.example>",
        "default_escalation_group": "园区领导"})
    assert answer.status_code == 302
    settings = park(parks).settings
    assert settings["scripts_enabled"] is False  # the box was not ticked
    assert settings["webhooks"] == [
        {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "format": "wecom"},
        {"url": "https://oapi.dingtalk.com/robot/send?access_token=x", "format": "dingtalk"}]
    assert settings["email_sender"] == "园区服务中心 <service@park.example>"
    assert settings["default_escalation_group"] == "园区领导"
    [event] = audits(parks, "park.settings_changed")
    assert event.before["scripts_enabled"] is None and event.after["scripts_enabled"] is False
    html = text_of(admin.get("/admin/settings"))
    assert 'value="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"' in html
    assert re.search(r'<option value="dingtalk" selected>', html)
    assert 'id="f-scripts_enabled" name="scripts_enabled" value="on"  aria' in html


def test_bad_settings_are_refused_beside_their_field(parks: Database, admin: Browser) -> None:
    cases = [({"webhook_url_0": "ftp://robot.example/x"}, "webhook_url_0"),
             ({"webhook_url_0": "https://ok.example", "webhook_format_0": "slack"},
              "webhook_format_0"),
             ({"email_sender": "not an address"}, "email_sender"),
             ({"default_escalation_group": "不存在的组"}, "default_escalation_group")]
    for data, field in cases:
        answer = admin.post("/admin/settings", {"scripts_enabled": "on", **data})
        assert answer.status_code == 422, data
        html = text_of(answer)
        assert field_error(html, field), data
        assert 'name="scripts_enabled" value="on" checked' in html  # what was sent is kept
    assert audits(parks, "park.settings_changed") == []
    assert "webhooks" not in park(parks).settings
