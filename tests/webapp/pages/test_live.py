"""The tracker and the inbox look for changes every second: 304 while nothing changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import complete, start
from webapp.db import Database
from webapp.extensions import DATABASE_KEY
from webapp.pages.live import LIVE_HEADER

OpenBrowser = Callable[..., Browser]
LOOK = {LIVE_HEADER: "1"}


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block."""
    engine = app.extensions[DATABASE_KEY].engine
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def look(visitor: Browser, url: str, tag: str) -> Any:
    return visitor.get(url, headers={**LOOK, "If-None-Match": tag})


def test_the_tracker_answers_304_until_a_reviewer_acts(
    parks: Database, browser: OpenBrowser, app: Flask
) -> None:
    instance_id = start(parks)
    url = f"/applications/{instance_id}"
    enterprise = browser("xinghe")
    first = enterprise.get(url)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and "data-live-tag" in text_of(first)
    assert first.headers["Cache-Control"] == "private, no-cache"
    with statements(app) as seen:
        same = look(enterprise, url, tag)
    assert same.status_code == 304 and same.data == b""
    assert same.headers["ETag"] == tag
    # the look is decided by one query (beside the session's own look-up of its user)
    assert len([sql for sql in seen if "audit_events" in sql]) == 1
    assert len(seen) <= 2, seen
    # nginx weakens tags it compresses, and a strong form of ours is the same tag
    assert look(enterprise, url, tag.removeprefix("W/")).status_code == 304

    complete(parks, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    moved = look(enterprise, url, tag)
    assert moved.status_code == 200
    assert moved.headers["ETag"] != tag
    assert "复核" in text_of(moved)  # the step it moved to
    assert look(enterprise, url, moved.headers["ETag"]).status_code == 304


def test_a_tag_holds_only_for_whom_it_was_drawn(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    url = f"/applications/{instance_id}"
    tag = browser("xinghe").get(url).headers["ETag"]
    # another reader of the same page draws their own; an outsider learns nothing
    assert look(browser("zhang.wei"), url, tag).status_code == 200
    for outsider in ("lanhai", "other.ent", "other.reviewer"):
        assert look(browser(outsider), url, tag).status_code == 404
    # a tag made up for an application that does not exist is no shortcut either
    assert look(browser("xinghe"), "/applications/nothing", tag).status_code == 404
    # nor is the language: an English page is another page
    english = browser("xinghe").get(
        url, headers={"Accept-Language": "en", **LOOK, "If-None-Match": tag}
    )
    assert english.status_code == 200


def test_a_look_does_not_use_up_the_flash_messages(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    url = f"/applications/{instance_id}"
    enterprise = browser("xinghe")
    tag = enterprise.get(url).headers["ETag"]
    answer = enterprise.post(f"{url}/urge", {"comment": "请尽快"})
    assert answer.status_code == 302
    assert "flash" not in text_of(look(enterprise, url, tag))
    assert "flash-success" in text_of(enterprise.get(url))


def test_the_inbox_answers_304_until_something_changes_in_the_park(
    parks: Database, browser: OpenBrowser, app: Flask
) -> None:
    reviewer = browser("zhang.wei")
    first = reviewer.get("/inbox")
    tag = first.headers["ETag"]
    assert "data-live-tag" in text_of(first)
    with statements(app) as seen:
        same = look(reviewer, "/inbox", tag)
    assert same.status_code == 304
    assert len([sql for sql in seen if "audit_events" in sql]) == 1
    assert len(seen) <= 2, seen

    instance_id = start(parks)  # a new application reaches the review team
    arrived = look(reviewer, "/inbox", tag)
    assert arrived.status_code == 200 and arrived.headers["ETag"] != tag
    assert "初审" in text_of(arrived)
    # the inbox of a filter, of another page or of another reader is its own
    assert look(reviewer, "/inbox?scope=mine", arrived.headers["ETag"]).status_code == 200
    assert look(browser("li.na"), "/inbox", arrived.headers["ETag"]).status_code == 200
    complete(parks, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    assert look(reviewer, "/inbox", arrived.headers["ETag"]).status_code == 200


def test_a_made_up_inbox_tag_draws_the_page(browser: OpenBrowser, parks: Database) -> None:
    reviewer = browser("zhang.wei")
    for sent in ('W/"x"', '"' + "p" * 200 + '.sig"', "*", ""):
        assert look(reviewer, "/inbox", sent).status_code == 200
