"""The inbox page and ``GET /api/v1/tasks`` narrow the list with one filter and one query:
scope, procedure, reference or enterprise, overdue only."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask

from tests.webapp.apptools import Browser, bearer, text_of
from tests.webapp.pages.synthetic import REFERENCE, add_open_tasks
from tests.webapp.pages.test_inbox import counts, rows
from webapp.db import Database
from webapp.services import inbox

OpenBrowser = Callable[..., Browser]


def _api(app: Flask, query: str, username: str = "zhang.wei") -> list[str]:
    client = app.test_client()
    response = client.get(f"/api/v1/tasks{query}", headers=bearer(client, username))
    assert response.status_code == 200, response.json
    return [item["task_id"] for item in response.json]


def _page(visitor: Browser, query: str) -> list[str]:
    return [task for _css, task, _reference in rows(text_of(visitor.get(f"/inbox{query}")))]


def test_overdue_only_lists_the_late_tasks_and_counts_them(
    parks: Database, browser: OpenBrowser
) -> None:
    ids = add_open_tasks(parks, 30)  # the first 3 are overdue
    html = text_of(browser("zhang.wei").get("/inbox?overdue=1"))

    assert [task for _c, task, _r in rows(html)] == ids[:3]
    assert {css for css, _t, _r in rows(html)} == {"row-overdue"}
    assert counts(html) == [3, 3, 0, 0]
    assert 'id="filter-overdue" name="overdue" value="1" checked' in html


def test_page_and_api_list_the_same_tasks_for_the_same_filter(
    parks: Database, app: Flask, browser: OpenBrowser
) -> None:
    ids = add_open_tasks(parks, 20)
    reviewer = browser("zhang.wei")
    for page_query, api_query in (
        ("", ""),
        ("?overdue=1", "?overdue=1"),
        ("?q=000007", "?q=000007"),
        ("?q=星河&overdue=1", "?q=星河&overdue=true"),
        ("?process=policy_subsidy&scope=groups", "?process_key=policy_subsidy&scope=groups"),
        ("?process=tax_docking", "?process_key=tax_docking"),
        ("?scope=mine", "?scope=mine"),
    ):
        assert _page(reviewer, page_query) == _api(app, api_query), page_query
    assert _api(app, "?q=000007") == [ids[7]]
    assert _api(app, "?overdue=1") == ids[:2]


def test_overdue_pages_keep_the_filter(parks: Database, browser: OpenBrowser) -> None:
    ids = add_open_tasks(parks, 600)  # 60 overdue: two pages of them
    reviewer = browser("zhang.wei")

    first = text_of(reviewer.get("/inbox?overdue=1"))
    found = re.search(r'href="(/inbox\?[^"]*after=[^"]+)">', first)
    assert found is not None and "overdue=1" in found.group(1)
    second = text_of(reviewer.get(found.group(1).replace("&amp;", "&")))

    listed = [t for _c, t, _r in rows(first)] + [t for _c, t, _r in rows(second)]
    assert listed == ids[:60]
    assert [r for _c, _t, r in rows(second)][-1] == REFERENCE.format(59)


def test_the_api_refuses_a_malformed_filter(parks: Database, app: Flask) -> None:
    client = app.test_client()
    headers = bearer(client, "zhang.wei")
    for query in ("?overdue=maybe", "?q=" + "x" * 65, "?process_key=" + "k" * 256):
        response = client.get(f"/api/v1/tasks{query}", headers=headers)
        assert response.status_code == 422, query


def test_a_search_naming_many_applications_finds_them_all(
    parks: Database, app: Flask, browser: OpenBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_open_tasks(parks, 12)
    few = _api(app, "?q=星河")
    monkeypatch.setattr(inbox, "MAX_MENTIONED", 3)  # past it, the search stays a subquery

    assert _api(app, "?q=星河") == few == ids
    assert _page(browser("zhang.wei"), "?q=星河") == ids
    assert _api(app, "?q=SYN-2026-00000") == ids[:10]
