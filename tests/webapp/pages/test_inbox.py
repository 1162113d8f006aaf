"""The inbox: what waits for me and my groups, overdue first, marked, filtered and paged."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import update

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import REASONS, complete, open_tasks, start
from tests.webapp.pages.synthetic import REFERENCE, add_open_tasks
from webapp.db import Database
from webapp.models import HumanTask

OpenBrowser = Callable[..., Browser]
ROW = re.compile(r'<tr class="([^"]*)">\s*<td[^>]*><a href="/tasks/([^"]+)">([^<]+)</a>')


def rows(html: str) -> list[tuple[str, str, str]]:
    """(row class, task id, reference) of each listed task, in order."""
    return ROW.findall(html)


def counts(html: str) -> list[int]:
    """The four numbers above the list: open, overdue, due soon, claimed by me."""
    return [int(n) for n in re.findall(r'<span class="number">(\d+)</span>', html)]


def test_overdue_first_then_due_soon_marked_red_and_yellow(parks: Database,
                                                          browser: OpenBrowser) -> None:
    add_open_tasks(parks, 30)  # 3 overdue; every task's follow-up is a day before its due
    html = text_of(browser("zhang.wei").get("/inbox"))
    listed = rows(html)
    assert [reference for _c, _t, reference in listed] == [REFERENCE.format(i)
                                                          for i in range(30)]
    classes = [css for css, _t, _r in listed]
    assert classes[:3] == ["row-overdue"] * 3
    assert classes[3:27] == ["row-due-soon"] * 24  # due within the next day
    assert classes[27:] == [""] * 3
    assert counts(html) == [30, 3, 24, 0]
    assert html.count("chip chip-red") == 3


def test_the_inbox_pages_by_fifty(parks: Database, browser: OpenBrowser) -> None:
    add_open_tasks(parks, 120)
    reviewer = browser("zhang.wei")
    seen: list[str] = []
    url = "/inbox"
    for expected in (50, 50, 20):
        html = text_of(reviewer.get(url))
        page = [reference for _c, _t, reference in rows(html)]
        assert len(page) == expected
        seen += page
        found = re.search(r'href="(/inbox\?[^"]*after=[^"]+)">', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert url == ""
    assert seen == [REFERENCE.format(i) for i in range(120)]
    assert counts(html)[0] == 120


def test_search_by_reference_and_filter_by_procedure(parks: Database,
                                                     browser: OpenBrowser) -> None:
    add_open_tasks(parks, 12)
    reviewer = browser("zhang.wei")
    found = rows(text_of(reviewer.get("/inbox?q=000007")))
    assert [reference for _c, _t, reference in found] == [REFERENCE.format(7)]
    assert rows(text_of(reviewer.get("/inbox?q=100%25"))) == []
    assert len(rows(text_of(reviewer.get("/inbox?q=星河")))) == 12
    assert len(rows(text_of(reviewer.get("/inbox?process=policy_subsidy")))) == 12
    assert rows(text_of(reviewer.get("/inbox?process=tax_docking"))) == []


def test_mine_and_my_groups(parks: Database, browser: OpenBrowser) -> None:
    ids = add_open_tasks(parks, 5)
    with parks.write() as session:
        session.execute(update(HumanTask).where(HumanTask.id == ids[0])
                        .values(assignee="zhang.wei"))
        session.execute(update(HumanTask).where(HumanTask.id == ids[1])
                        .values(assignee="someone.else"))
    reviewer = browser("zhang.wei")
    everything = text_of(reviewer.get("/inbox"))
    assert len(rows(everything)) == 4 and counts(everything)[3] == 1
    assert [t for _c, t, _r in rows(text_of(reviewer.get("/inbox?scope=mine")))] == [ids[0]]
    assert len(rows(text_of(reviewer.get("/inbox?scope=groups")))) == 3
    assert reviewer.get("/inbox?scope=everyone").status_code == 400


def test_each_sees_only_their_own_work(parks: Database, browser: OpenBrowser) -> None:
    add_open_tasks(parks, 3)
    add_open_tasks(parks, 2, park_slug="other")
    mine = start(parks)
    complete(parks, mine, "preliminary_review",
             {"outcome": "return", "return_reasons": REASONS}, "zhang.wei")
    correction = open_tasks(parks, mine)["correction"].id
    assert len(rows(text_of(browser("zhang.wei").get("/inbox")))) == 3
    assert rows(text_of(browser("li.na").get("/inbox"))) == []
    assert len(rows(text_of(browser("other.reviewer").get("/inbox")))) == 2
    assert [t for _c, t, _r in rows(text_of(browser("xinghe").get("/inbox")))] == [correction]
    assert rows(text_of(browser("lanhai").get("/inbox"))) == []


def test_the_marks_follow_the_clock(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    assert task.due_at is not None and task.follow_up_at is not None
    reviewer = browser("zhang.wei")
    assert rows(text_of(reviewer.get("/inbox")))[0][0] == ""
    with time_machine.travel(task.follow_up_at + timedelta(minutes=1), tick=False):
        assert rows(text_of(reviewer.get("/inbox")))[0][0] == "row-due-soon"
    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        html = text_of(reviewer.get("/inbox"))
        assert rows(html)[0][0] == "row-overdue" and counts(html)[:2] == [1, 1]
        assert "chip chip-red" in text_of(reviewer.get(f"/tasks/{task.id}"))


def test_a_tampered_next_page_link_is_refused(parks: Database, browser: OpenBrowser) -> None:
    reviewer = browser("zhang.wei")
    for after in ("nonsense", "2026-01-01~2026-01-01~x", "a~b~c", "2026-01-01T00:00:00+00:00~"):
        assert reviewer.get(f"/inbox?after={after}").status_code == 400
    now = datetime.now(UTC).isoformat().replace("+", "%2B")
    assert reviewer.get(f"/inbox?after={now}~{now}~x").status_code == 200
