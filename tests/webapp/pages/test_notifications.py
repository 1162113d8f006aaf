"""The notifications page: the user's own messages, newest first, marked read."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import start
from webapp.db import Database
from webapp.models import Notification, Park, User

OpenBrowser = Callable[..., Browser]


def notify(db: Database, username: str, count: int, *, park: str = "demo",
           instance_id: str | None = None) -> list[int]:
    """Give a user ``count`` unread notifications, a minute apart; their ids, oldest first."""
    now = datetime.now(UTC)
    with db.write() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        park_id = session.scalars(select(Park.id).where(Park.slug == park)).one()
        rows = [Notification(user_id=user.id, park_id=park_id, kind="returned",
                             title=f"消息 {i}", body="请补正", instance_id=instance_id,
                             at=now - timedelta(minutes=count - i))
                for i in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def listed(html: str) -> list[str]:
    return re.findall(r"<strong>(消息 \d+)</strong>", html)


def test_the_newest_come_first_and_the_header_counts_the_unread(
        parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    notify(parks, "xinghe", 3, instance_id=instance_id)
    notify(parks, "lanhai", 1)
    enterprise = browser("xinghe")
    html = text_of(enterprise.get("/notifications"))
    assert listed(html) == ["消息 2", "消息 1", "消息 0"]
    assert '<span class="count" aria-label="3 条未读">3</span>' in html
    assert f'href="/applications/{instance_id}"' in html
    assert "退回" in html  # the kind, named


def test_marking_read_one_by_one_and_all_at_once(parks: Database,
                                                browser: OpenBrowser) -> None:
    ids = notify(parks, "zhang.wei", 3)
    reviewer = browser("zhang.wei")
    assert reviewer.post(f"/notifications/{ids[0]}/read").status_code == 302
    assert listed(text_of(reviewer.get("/notifications?unread=1"))) == ["消息 2", "消息 1"]
    partial = reviewer.post(f"/notifications/{ids[1]}/read", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<!doctype" not in text_of(partial)
    assert "已读" in text_of(partial)
    assert reviewer.post("/notifications/read").status_code == 302
    assert listed(text_of(reviewer.get("/notifications?unread=1"))) == []
    assert len(listed(text_of(reviewer.get("/notifications")))) == 3


def test_nobody_marks_another_users_notifications(parks: Database,
                                                 browser: OpenBrowser) -> None:
    theirs = notify(parks, "xinghe", 1)[0]
    other_park = notify(parks, "zhang.wei", 1, park="other")[0]
    reviewer = browser("li.na")
    assert reviewer.post(f"/notifications/{theirs}/read").status_code == 404
    assert reviewer.post(f"/notifications/{2**70}/read").status_code == 404
    assert browser("xinghe").get("/notifications?unread=1").status_code == 200
    assert listed(text_of(browser("xinghe").get("/notifications?unread=1"))) == ["消息 0"]
    # zhang.wei belongs to both parks and sees both parks' notifications
    assert len(listed(text_of(browser("zhang.wei").get("/notifications")))) == 1
    assert browser("zhang.wei").post(f"/notifications/{other_park}/read").status_code == 302


def test_the_list_pages_by_fifty(parks: Database, browser: OpenBrowser) -> None:
    notify(parks, "xinghe", 60)
    enterprise = browser("xinghe")
    first = text_of(enterprise.get("/notifications"))
    assert len(listed(first)) == 50
    link = re.search(r'href="(/notifications\?after=[^"]+)"', first)
    assert link is not None
    second = text_of(enterprise.get(link.group(1).replace("&amp;", "&")))
    assert listed(second) == [f"消息 {i}" for i in range(9, -1, -1)]
    assert enterprise.get("/notifications?after=yesterday").status_code == 400
