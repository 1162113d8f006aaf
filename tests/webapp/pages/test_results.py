"""Pages tell results apart and carry a correction round: 待补正, the paused clock, and the
reviewer's view of what the enterprise changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import time_machine

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import APPLICATION, CORRECTION, REASONS, complete, open_tasks, start
from webapp.db import Database, utcnow
from webapp.services.applications import cancel_application

OpenBrowser = Callable[..., Browser]
RETURN = {"outcome": "return", "return_reasons": REASONS}


def _chips(html: str) -> list[str]:
    return re.findall(r'data-(?:result|status-detail)="([a-z_]+)"[^>]*>([^<]+)<', html)


def _returned(db: Database) -> str:
    instance_id = start(db)
    complete(db, instance_id, "preliminary_review", RETURN, "zhang.wei")
    return instance_id


def test_lists_tell_the_results_apart(parks: Database, browser: OpenBrowser) -> None:
    rejected = start(parks)
    complete(
        parks,
        rejected,
        "preliminary_review",
        {"outcome": "reject", "comment": "不符合"},
        "zhang.wei",
    )
    cancelled = start(parks)
    cancel_application(parks, instance_id=cancelled, actor="admin", reason="重复提交")
    _returned(parks)
    enterprise = browser("xinghe")

    chips = _chips(text_of(enterprise.get("/applications")))
    only_rejected = text_of(enterprise.get("/applications?result=rejected"))

    assert sorted(chips) == [
        ("cancelled", "已取消"),
        ("rejected", "不予批准"),
        ("with_applicant", "待补正"),
    ]
    assert f'href="/applications/{rejected}"' in only_rejected
    assert f'href="/applications/{cancelled}"' not in only_rejected
    assert enterprise.get("/applications?result=lost").status_code == 400


def test_the_tracker_shows_the_correction_wait_and_the_paused_clock(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = _returned(parks)
    enterprise = browser("xinghe")

    waiting = text_of(enterprise.get(f"/applications/{instance_id}"))
    with time_machine.travel(utcnow() + timedelta(days=2)):
        complete(parks, instance_id, "correction", CORRECTION, "xinghe")
    corrected = text_of(enterprise.get(f"/applications/{instance_id}"))

    assert ("with_applicant", "待补正") in _chips(waiting)
    assert 'id="clock-paused"' in waiting and "暂停计时" in waiting
    assert 'id="clock-paused"' not in corrected
    paused = re.search(r'id="paused-total">([^<]+)<', corrected)
    assert paused is not None and "2 天" in paused.group(1) and "不计入承诺时限" in paused.group(1)


def test_the_inbox_marks_a_correction_waiting_for_the_enterprise(
    parks: Database, browser: OpenBrowser
) -> None:
    _returned(parks)

    assert ("with_applicant", "待补正") in _chips(text_of(browser("xinghe").get("/inbox")))


def test_an_ended_application_shows_its_result_on_the_tracker(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = start(parks)
    complete(
        parks,
        instance_id,
        "preliminary_review",
        {"outcome": "reject", "comment": "否"},
        "zhang.wei",
    )

    html = text_of(browser("xinghe").get(f"/applications/{instance_id}"))

    assert ("rejected", "不予批准") in _chips(html)


def test_the_reviewer_sees_what_the_resubmission_changed(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = _returned(parks)
    complete(
        parks, instance_id, "correction", {**CORRECTION, "requested_amount": 600_000}, "xinghe"
    )
    task = open_tasks(parks, instance_id)["preliminary_review"]

    html = text_of(browser("zhang.wei").get(f"/tasks/{task.id}"))

    assert re.search(r'id="correction-note">已补充审计报告并重新盖章<', html)
    changes = re.search(r'id="changes">(.*?)</table>', html, re.S)
    assert changes is not None
    assert re.findall(
        r"<th scope=\"row\">(.*?)</th><td><del>(.*?)</del></td><td><ins>(.*?)</ins>",
        changes.group(1),
    ) == [("申请金额（元）", "800,000", "600,000")]
    files = re.search(r'id="file-changes">(.*?)</ul>', html, re.S)
    assert files is not None
    shown = re.findall(r'<li class="file-(\w+)">', files.group(1))
    old = APPLICATION["attachments"]
    assert shown.count("removed") == len([f for f in old if f not in CORRECTION["attachments"]])
    assert shown.count("added") == len([f for f in CORRECTION["attachments"] if f not in old])
