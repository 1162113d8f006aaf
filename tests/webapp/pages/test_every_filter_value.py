"""Every value a list's filter offers answers: each option of each filter on the lists'
pages, read from the page itself, and each value of the API's list filters, ``all`` too."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Callable

from flask import Flask

from tests.webapp.apptools import Browser, bearer, text_of
from tests.webapp.pages.synthetic import add_open_tasks
from webapp.db import Database
from webapp.models import INSTANCE_RESULTS, INSTANCE_STATUSES

OpenBrowser = Callable[..., Browser]
SELECT = re.compile(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"')


def _offered(html: str) -> dict[str, list[str]]:
    """Each filter select of a page's GET form and the values it offers."""
    offered: dict[str, list[str]] = {}
    for form in re.findall(r'<form method="get"[^>]*>(.*?)</form>', html, re.S):
        for name, options in SELECT.findall(form):
            offered[name] = [markup.unescape(v) for v in OPTION.findall(options)]
    return offered


def test_every_option_of_every_list_filter_answers(parks: Database, browser: OpenBrowser) -> None:
    add_open_tasks(parks, 12)
    for username, path in (
        ("xinghe", "/applications"),
        ("zhang.wei", "/applications"),
        ("zhang.wei", "/inbox"),
        ("admin", "/admin/applications"),
    ):
        visitor = browser(username)
        offered = _offered(text_of(visitor.get(path)))
        assert offered, path
        for name, values in offered.items():
            assert values, (path, name)
            for value in values:
                answer = visitor.get(path, query_string={name: value})
                assert answer.status_code == 200, (username, path, name, value)
    inbox = _offered(text_of(browser("zhang.wei").get("/inbox")))
    assert set(inbox) == {"process", "scope", "sort"}
    assert inbox["sort"] == ["due", "received", "waiting", "priority", "applicant"]


def test_every_value_of_the_apis_list_filters_answers(parks: Database, app: Flask) -> None:
    add_open_tasks(parks, 3)
    client = app.test_client()
    headers = bearer(client, "zhang.wei")
    for status in ("all", *INSTANCE_STATUSES):
        answer = client.get(f"/api/v1/parks/demo/instances?status={status}", headers=headers)
        assert answer.status_code == 200, status
    for result in ("all", *INSTANCE_RESULTS):
        answer = client.get(f"/api/v1/parks/demo/instances?result={result}", headers=headers)
        assert answer.status_code == 200, result
    everything = client.get("/api/v1/parks/demo/instances", headers=headers).json
    assert len(everything) == 3
    assert (
        client.get("/api/v1/parks/demo/instances?status=all&result=all", headers=headers).json
        == everything
    )
    for scope in ("all", "mine", "groups", "done", "cc"):
        assert client.get(f"/api/v1/tasks?scope={scope}", headers=headers).status_code == 200
    for sort in ("due", "received", "waiting", "priority", "applicant"):
        assert client.get(f"/api/v1/tasks?sort={sort}", headers=headers).status_code == 200
    refused = client.get("/api/v1/parks/demo/instances?status=lost", headers=headers)
    assert refused.status_code == 422 and refused.json["error"]["details"]
