"""In-app notifications: the caller's own, newest first, and marking them read."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from webapp.db import Database, utcnow
from webapp.models import Notification, Park, User

URL = "/api/v1/notifications"


def _notify(db: Database, username: str, title: str, minutes_ago: int, *,
            read: bool = False) -> int:
    with db.write() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        at = utcnow() - timedelta(minutes=minutes_ago)
        row = Notification(user_id=user.id, park_id=park.id, kind="task_waiting", title=title,
                           body="", at=at, read_at=at if read else None)
        session.add(row)
        session.flush()
        return row.id


def test_list_newest_first(client: FlaskClient, login: Login, parks: Database) -> None:
    _notify(parks, "zhang.wei", "old", 30, read=True)
    newest = _notify(parks, "zhang.wei", "new", 1)
    _notify(parks, "li.na", "not mine", 2)

    everything = client.get(URL, headers=login("zhang.wei"))
    unread = client.get(f"{URL}?unread=1", headers=login("zhang.wei"))

    assert everything.status_code == 200
    assert [n["title"] for n in everything.json] == ["new", "old"]
    assert [n["title"] for n in unread.json] == ["new"]
    assert everything.json[0] == {"id": newest, "at": everything.json[0]["at"],
                                  "kind": "task_waiting", "title": "new", "body": "",
                                  "instance_id": None, "task_id": None, "read": False}


def test_list_pages(client: FlaskClient, login: Login, parks: Database) -> None:
    for minutes in range(5):
        _notify(parks, "zhang.wei", f"n{minutes}", minutes)

    first = client.get(f"{URL}?limit=3&unread=0", headers=login("zhang.wei"))
    link = first.headers["Link"]
    second = client.get(link[1:link.index(">")], headers=login("zhang.wei"))

    assert [n["title"] for n in first.json + second.json] == ["n0", "n1", "n2", "n3", "n4"]
    # the other query arguments are kept
    assert "unread=0" in link


def test_list_query_errors(client: FlaskClient, login: Login) -> None:
    assert client.get(f"{URL}?unread=perhaps", headers=login("admin")).status_code == 422
    assert client.get(f"{URL}?limit=0", headers=login("admin")).status_code == 422


def test_mark_read(client: FlaskClient, login: Login, parks: Database) -> None:
    notification = _notify(parks, "zhang.wei", "hello", 1)

    first = client.post(f"{URL}/{notification}/read", headers=login("zhang.wei"))
    again = client.post(f"{URL}/{notification}/read", headers=login("zhang.wei"))

    assert first.status_code == again.status_code == 200
    assert first.json["read"] is True
    assert client.get(f"{URL}?unread=1", headers=login("zhang.wei")).json == []


def test_mark_read_of_someone_else_or_absent(client: FlaskClient, login: Login,
                                              parks: Database) -> None:
    theirs = _notify(parks, "li.na", "hers", 1)

    for path in (theirs, 999999, 2**70, 0, "abc"):
        response = client.post(f"{URL}/{path}/read", headers=login("zhang.wei"))
        assert response.status_code == 404, path
