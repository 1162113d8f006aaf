"""A limit in working days, counted with the park's real calendar (the statutory holidays and
make-up working days of ``chinese_calendar``): the day of filing does not count, the limit
ends at the end of its last working day and the reviewer's task page tells that day with its
weekday; a limit in hours keeps its minute."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login, probe_sources
from tests.webapp.api.helpers import start, step
from tests.webapp.apptools import Browser, text_of
from webapp.db import Database
from webapp.services import accounts, processes

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _probe_due(db: Database, due: str) -> None:
    """A new version of ``api_probe`` whose review is due ``due`` after filing."""
    sources = probe_sources()
    bpmn = sources["bpmn"]["probe.bpmn"].replace(
        b'camunda:dueDate="PT48H"', f'camunda:dueDate="{due}"'.encode()
    )
    with db.write() as session:
        processes.deploy(
            session,
            park=accounts.get_park(session, "demo"),
            actor="test",
            bpmn={"probe.bpmn": bpmn},
            forms=sources["forms"],
        )


def _task_page(app: Flask, task_id: str, language: str) -> str:
    reviewer = Browser(app.test_client()).login("zhang.wei")
    return text_of(reviewer.get(f"/tasks/{task_id}", headers={"Accept-Language": language}))


@pytest.mark.parametrize(
    ("filed", "due", "ends", "zh", "en"),
    [
        # Saturday: Monday 7 December is the first of the five working days
        (
            datetime(2026, 12, 5, 2, 6),
            "5WD",
            "2026-12-11T09:30:00Z",
            "12月11日（周五）",
            "Fri 11 Dec",
        ),
        # in the National Day holiday: 8, 9, 10 (a make-up Saturday, 调休), 12 and 13 October
        (
            datetime(2026, 10, 3, 10, 0),
            "5WD",
            "2026-10-13T09:30:00Z",
            "10月13日（周二）",
            "Tue 13 Oct",
        ),
        # Friday evening before the make-up Saturday 10 October: the Saturday is the first
        (
            datetime(2026, 10, 9, 18, 0),
            "2WD",
            "2026-10-12T09:30:00Z",
            "10月12日（周一）",
            "Mon 12 Oct",
        ),
        # a limit in hours: 48 hours to the minute, weekend or not
        (
            datetime(2026, 12, 5, 2, 6),
            "PT48H",
            "2026-12-06T18:06:00Z",
            "截止 2026年12月7日 02:06",
            "Due 7 Dec 2026, 02:06",
        ),
    ],
)
def test_a_working_day_limit_ends_with_its_last_working_day_on_the_task_page(
    parks: Database,
    app: Flask,
    client: FlaskClient,
    login: Login,
    filed: datetime,
    due: str,
    ends: str,
    zh: str,
    en: str,
) -> None:
    _probe_due(parks, due)
    with time_machine.travel(filed.replace(tzinfo=SHANGHAI), tick=False):
        task_id = step(start(client, login("xinghe")), "probe_review")
        task = client.get(f"/api/v1/tasks/{task_id}", headers=login("zhang.wei")).json
        zh_page = _task_page(app, task_id, "zh-CN")
        en_page = _task_page(app, task_id, "en")

    assert task["due_at"].replace("+00:00", "Z") == ends
    if due.endswith("WD"):
        assert f"截止 {zh}" in zh_page
        assert f"Due {en}" in en_page
    else:
        assert zh in zh_page and en in en_page
