"""The notifications of the approval idioms (转办, 加签, 退回, ...) in each recipient's language:
English for a user whose locale is ``en``, Chinese for the others; the same event told to
both reads in both."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import start, step
from tests.webapp.api.test_returns import (  # noqa: F401 (the fixture)
    REASONS,
    at_step3,
    deployed,
    send_back,
)
from webapp.db import Database
from webapp.models import Job, Park, User
from webapp.worker import Worker

TASKS = "/api/v1/tasks"


def in_english(db: Database, *usernames: str) -> None:
    with db.write() as session:
        session.execute(update(User).where(User.username.in_(usernames)).values(locale="en"))


def told(client: FlaskClient, login: Login, username: str, kind: str) -> list[dict[str, Any]]:
    found = client.get("/api/v1/notifications", headers=login(username)).json
    return [n for n in found if n["kind"] == kind]


def test_hand_offs_are_told_in_each_recipients_language(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    in_english(parks, "li.na")
    view = start(client, login("xinghe"))
    ref, task = view["reference"], step(view, "probe_review")
    moved = client.post(
        f"{TASKS}/{task}/transfer",
        json={"username": "li.na", "comment": "请李娜办理"},
        headers=login("zhang.wei"),
    )
    assert moved.status_code == 200, moved.json
    added = client.post(
        f"{TASKS}/{task}/add-signers",
        json={"usernames": ["wang.qiang"], "position": "before"},
        headers=login("li.na"),
    )
    assert added.status_code == 200, added.json
    Worker(parks, worker_id="test-worker").run_until_idle()

    [transferred] = told(client, login, "li.na", "transferred")
    assert transferred["title"] == f"Transferred to you: Review ({ref})"
    assert transferred["body"].startswith(
        f"zhang.wei transferred “Review” of API probe ({ref}) to you. Due "
    )
    assert transferred["body"].endswith(".\nComment: 请李娜办理")
    [asked] = told(client, login, "wang.qiang", "signers_added")
    assert asked["title"] == f"加签：Review（{ref}）"


def test_a_return_is_told_in_english_to_an_english_reader(
    client: FlaskClient,
    login: Login,
    parks: Database,
    deployed: None,  # noqa: F811
) -> None:
    in_english(parks, "zhang.wei")
    view = at_step3(client, login)
    assert send_back(client, login, view, "step1").status_code == 200
    Worker(parks, worker_id="test-worker").run_until_idle()

    [returned] = told(client, login, "zhang.wei", "returned")
    assert returned["title"] == f"Returned: 初审 ({view['reference']})"
    assert returned["body"].startswith(f"三级审批 ({view['reference']}) was returned from “审定”")
    assert returned["body"].endswith(
        "\nReasons:" + "".join(f"\n{i}. {r}" for i, r in enumerate(REASONS, 1))
    )
    # a reader of Chinese is told in Chinese, as before
    assert all("退回" in n["title"] for n in told(client, login, "li.na", "returned"))


def test_the_parks_webhook_is_told_in_chinese_when_only_english_readers_are(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    in_english(parks, "li.na")
    with parks.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        park.settings = {**park.settings, "webhooks": ["http://127.0.0.1:9/robot"]}
    view = start(client, login("xinghe"))
    moved = client.post(
        f"{TASKS}/{step(view, 'probe_review')}/transfer",
        json={"username": "li.na"},
        headers=login("zhang.wei"),
    )
    assert moved.status_code == 200, moved.json
    Worker(parks, worker_id="test-worker").run_until_idle()

    [transferred] = told(client, login, "li.na", "transferred")
    assert transferred["title"].startswith("Transferred to you: ")
    with parks.read() as session:
        posts = [
            job.payload
            for job in session.scalars(select(Job).where(Job.kind == "notify"))
            if job.payload.get("channel") == "webhook" and job.payload["event"] == "transferred"
        ]
    assert [post["title"] for post in posts] == [f"转办：Review（{view['reference']}）"]
