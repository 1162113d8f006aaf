"""The inbox sorted by the columns people sort by — received, waiting, priority, applicant —
on the page and in ``GET /api/v1/tasks``, paged without losing or repeating a task, and the
filters a person saves (常用筛选) on the page and through ``/api/v1/me/filters``."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.webapp.apptools import Browser, bearer, text_of
from tests.webapp.pages.synthetic import add_open_tasks
from tests.webapp.pages.test_inbox import rows
from webapp.db import Database, new_id
from webapp.models import AuditEvent, Enterprise, HumanTask, Instance, Park, SavedFilter

OpenBrowser = Callable[..., Browser]
TASKS = "/api/v1/tasks"
FILTERS = "/api/v1/me/filters"
NAMES = ("Beta Works", "Alpha Labs", None, "Gamma Tools")


def _varied(db: Database, count: int) -> list[dict[str, Any]]:
    """``count`` open tasks whose priorities, arrival times and enterprises vary, with ties:
    every four tasks arrived at the same moment, so only the id tells them apart."""
    ids = add_open_tasks(db, count)
    base = datetime.now(UTC) - timedelta(days=3)
    with db.write() as session:
        park_id = session.scalars(select(Park.id).where(Park.slug == "demo")).one()
        companies: dict[str, str] = {}
        for name in NAMES:
            if name is not None:
                company = Enterprise(id=new_id(), park_id=park_id, name=name)
                session.add(company)
                companies[name] = company.id
        session.flush()
        for i, task_id in enumerate(ids):
            task = session.get_one(HumanTask, task_id)
            task.priority = (30, 50, 80)[i % 3]
            task.created_at = base - timedelta(minutes=i // 4)
            name = NAMES[i % len(NAMES)]
            session.execute(
                update(Instance)
                .where(Instance.id == task.instance_id)
                .values(enterprise_id=companies[name] if name else None)
            )
    with db.read() as session:
        found = session.execute(
            select(HumanTask.id, HumanTask.priority, HumanTask.created_at, Enterprise.name)
            .join(Instance, Instance.id == HumanTask.instance_id)
            .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id)
            .where(HumanTask.id.in_(ids))
        ).all()
    return [
        {"id": r.id, "priority": r.priority, "created": r.created_at, "name": r.name or ""}
        for r in found
    ]


def _expected(tasks: list[dict[str, Any]], sort: str) -> list[str]:
    orders = {
        "received": (lambda t: (t["created"], t["id"]), True),
        "waiting": (lambda t: (t["created"], t["id"]), False),
        "priority": (lambda t: (t["priority"], t["created"], t["id"]), True),
        "applicant": (lambda t: (t["name"], t["created"], t["id"]), False),
    }
    key, down = orders[sort]
    return [t["id"] for t in sorted(tasks, key=key, reverse=down)]


def _api_walk(app: Flask, query: str, username: str = "zhang.wei") -> list[str]:
    client = app.test_client()
    headers = bearer(client, username)
    url: str | None = f"{TASKS}{query}"
    listed: list[str] = []
    while url is not None:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.json
        listed += [item["task_id"] for item in answer.json]
        link = re.match(r"<([^>]+)>", answer.headers.get("Link", ""))
        url = link.group(1) if link else None
    return listed


def _page_walk(visitor: Browser, query: str) -> list[str]:
    url: str | None = f"/inbox{query}"
    listed: list[str] = []
    while url is not None:
        html = text_of(visitor.get(url))
        listed += [task for _css, task, _reference in rows(html)]
        found = re.search(r'href="(/inbox\?[^"]*after=[^"]+)">', html)
        url = markup.unescape(found.group(1)) if found else None
    return listed


@pytest.mark.parametrize("sort", ["received", "waiting", "priority", "applicant"])
def test_each_sort_lists_every_task_once_in_its_order_on_page_and_api(
    parks: Database, app: Flask, browser: OpenBrowser, sort: str
) -> None:
    tasks = _varied(parks, 110)  # three pages of the inbox page, many ties in each order
    expected = _expected(tasks, sort)

    assert _api_walk(app, f"?sort={sort}&limit=7") == expected
    assert _page_walk(browser("zhang.wei"), f"?sort={sort}") == expected


def test_the_sort_is_kept_in_the_page_links_and_the_headers_choose_it(
    parks: Database, browser: OpenBrowser
) -> None:
    _varied(parks, 60)
    html = text_of(browser("zhang.wei").get("/inbox?sort=priority&overdue=1"))

    assert 'aria-sort="descending"' in html
    assert '<option value="priority" selected>' in html
    for link in re.findall(r'href="(/inbox\?[^"]*after=[^"]*)"', html):
        assert "sort=priority" in link and "overdue=1" in link
    headers = re.findall(r'<th scope="col" class="sortable[^"]*"[^>]*><a href="([^"]+)"', html)
    assert len(headers) == 5
    assert all("overdue=1" in markup.unescape(h) for h in headers)
    assert {
        re.search(r"sort=(\w+)", markup.unescape(h)).group(1)  # type: ignore[union-attr]
        for h in headers
        if "sort=" in h
    } == {"received", "waiting", "priority", "applicant"}


def test_an_unknown_sort_is_refused_with_a_message(
    parks: Database, app: Flask, browser: OpenBrowser
) -> None:
    client = app.test_client()
    headers = bearer(client, "zhang.wei")
    answer = client.get(f"{TASKS}?sort=fastest", headers=headers)

    assert answer.status_code == 400
    assert "sort must be one of" in answer.json["error"]["message"]
    assert browser("zhang.wei").get("/inbox?sort=fastest").status_code == 400


def test_a_cursor_of_one_order_does_not_continue_another(parks: Database, app: Flask) -> None:
    add_open_tasks(parks, 5)
    client = app.test_client()
    headers = bearer(client, "zhang.wei")
    first = client.get(f"{TASKS}?sort=priority&limit=2", headers=headers)
    cursor = re.search(r"cursor=([^&>]+)", first.headers["Link"]).group(1)  # type: ignore[union-attr]

    for other in ("received", "due", "applicant"):
        answer = client.get(f"{TASKS}?sort={other}&limit=2&cursor={cursor}", headers=headers)
        assert answer.status_code == 400, other
        assert answer.json["error"]["code"] == "bad_cursor"


def test_a_filter_saved_on_the_page_shows_as_a_chip_opens_and_is_deleted(
    parks: Database, browser: OpenBrowser
) -> None:
    add_open_tasks(parks, 30)  # 3 overdue
    reviewer = browser("zhang.wei")
    answer = reviewer.post(
        "/inbox/filters",
        {"name": "  My  late ones ", "overdue": "1", "sort": "waiting", "scope": "groups"},
    )
    assert answer.status_code == 302
    assert "sort=waiting" in answer.headers["Location"]

    html = text_of(reviewer.get("/inbox"))
    chip = re.search(r'<li class="saved-filter">\s*<a href="([^"]+)">My late ones</a>', html)
    assert chip is not None
    opened = text_of(reviewer.get(markup.unescape(chip.group(1))))
    assert len(rows(opened)) == 3
    assert 'class="saved-filter current"' in opened
    assert '<option value="waiting" selected>' in opened

    with parks.read() as session:
        saved = session.scalars(select(SavedFilter)).one()
        assert saved.query == {"scope": "groups", "sort": "waiting", "overdue": True}
        saved_id = saved.id
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("inbox_filter.%"))
        ).all()
    assert actions == ["inbox_filter.saved"]

    assert reviewer.post(f"/inbox/filters/{saved_id}/delete").status_code == 302
    assert "My late ones" not in text_of(reviewer.get("/inbox"))
    with parks.read() as session:
        assert session.scalars(select(SavedFilter)).all() == []
        assert session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "inbox_filter.deleted")
        ).all() == ["inbox_filter.deleted"]


def test_a_filter_without_a_name_comes_back_with_the_error(
    parks: Database, browser: OpenBrowser
) -> None:
    reviewer = browser("zhang.wei")
    answer = reviewer.post("/inbox/filters", {"name": "   ", "sort": "priority"})
    assert answer.status_code == 302
    html = text_of(reviewer.get(answer.headers["Location"]))
    assert "请为筛选命名。" in html
    assert '<option value="priority" selected>' in html
    with parks.read() as session:
        assert session.scalars(select(SavedFilter)).all() == []


def test_saved_filters_through_the_api(parks: Database, app: Flask) -> None:
    add_open_tasks(parks, 30)
    client = app.test_client()
    reviewer = bearer(client, "zhang.wei")  # in two parks: names the park
    body = {"name": "Late", "overdue": True, "sort": "priority", "park": "demo"}

    made = client.post(FILTERS, json=body, headers=reviewer)
    assert made.status_code == 201, made.json
    assert made.json["park"] == "demo" and made.json["sort"] == "priority"
    again = client.post(FILTERS, json={**body, "sort": "received"}, headers=reviewer)
    assert again.status_code == 201 and again.json["id"] == made.json["id"]
    listed = client.get(FILTERS, headers=reviewer)
    assert [(f["name"], f["sort"], f["overdue"]) for f in listed.json] == [
        ("Late", "received", True)
    ]
    # another person sees none of them and cannot delete them
    other = bearer(client, "other.reviewer")
    assert client.get(FILTERS, headers=other).json == []
    assert client.delete(f"{FILTERS}/{made.json['id']}", headers=other).status_code == 404

    assert client.delete(f"{FILTERS}/{made.json['id']}", headers=reviewer).status_code == 204
    assert client.get(FILTERS, headers=reviewer).json == []
    assert client.delete(f"{FILTERS}/{made.json['id']}", headers=reviewer).status_code == 404


def test_the_api_refuses_a_bad_saved_filter_with_a_message(parks: Database, app: Flask) -> None:
    client = app.test_client()
    reviewer = bearer(client, "zhang.wei")
    for body, status in (
        ({"name": "x", "park": "demo", "sort": "fastest"}, 400),
        ({"name": "x"}, 400),  # zhang.wei is in two parks
        ({"name": "x", "park": "nowhere"}, 404),
        ({"name": "", "park": "demo"}, 422),
        ({"name": "n" * 41, "park": "demo"}, 422),
        ({"name": "x", "park": "demo", "scope": "everyone"}, 422),
    ):
        answer = client.post(FILTERS, json=body, headers=reviewer)
        assert answer.status_code == status, (body, answer.json)
        assert answer.json["error"]["message"]
    one_park = bearer(client, "other.reviewer")
    assert client.post(FILTERS, json={"name": "x"}, headers=one_park).status_code == 201
