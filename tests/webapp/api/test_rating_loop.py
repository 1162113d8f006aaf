"""The 好差评 loop through the API: a bad grade opens a rectification (整改) for the park, the
park records its measures and the follow-up (回访), the enterprise hears the outcome and the
figures count the rating as rectified; an unrated application is invited to rate once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start, step
from tests.webapp.apptools import bearer
from webapp.db import Database, utcnow
from webapp.worker import Worker

STATS = "/api/v1/parks/demo/stats"
SETTINGS = "/api/v1/parks/demo/rating-settings"
DIMENSIONS = {"efficiency": 2, "convenience": 3, "attitude": 1, "standards": 2}


def completed(client: FlaskClient, login: Login) -> str:
    """A probe application of 星河科技, reviewed and paid: completed."""
    view = start(client, login("xinghe"))
    done = client.post(
        f"/api/v1/tasks/{step(view, 'probe_review')}/complete",
        json={"data": {"outcome": "approve"}},
        headers=login("zhang.wei"),
    )
    assert done.status_code == 200, done.json
    paid = client.post(
        f"/api/v1/instances/{view['id']}/messages/payment_received",
        json={"payload": {"amount": 1}},
        headers=login("zhao.min"),
    )
    assert paid.status_code == 200 and paid.json["status"] == "completed", paid.json
    return str(view["id"])


def actions(client: FlaskClient, login: Login, instance_id: str) -> list[str]:
    trail = client.get(
        f"/api/v1/instances/{instance_id}/audit?limit=200", headers=login("admin")
    ).json
    return [entry["action"] for entry in trail]


def told(client: FlaskClient, login: Login, username: str) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/notifications", headers=login(username)).json)


def test_a_bad_grade_is_rectified_followed_up_and_counted(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = completed(client, login)
    url = f"/api/v1/instances/{instance_id}/rating"
    assert client.get(STATS, headers=login("admin")).json["ratings"] == {
        "count": 0,
        "satisfied_rate": None,
        "bad": 0,
        "bad_rectified": 0,
    }

    rated = client.post(
        url,
        json={"grade": 2, "dimensions": DIMENSIONS, "comment": "材料退回三次"},
        headers=login("xinghe"),
    )
    assert rated.status_code == 201, rated.json
    assert rated.json["grade_name"] == "不满意" and rated.json["dimensions"] == DIMENSIONS
    rectification_id = rated.json["rectification_id"]
    assert rectification_id
    assert client.get(url, headers=login("admin")).json == rated.json

    listed = client.get("/api/v1/parks/demo/rectifications", headers=login("admin")).json
    assert [(r["id"], r["status"], r["overdue"], r["group"]) for r in listed] == [
        (rectification_id, "open", False, None)
    ]
    # five working days: due by the end of the working day (17:30 in the park) a working week on
    due = datetime.fromisoformat(listed[0]["due_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    opened = datetime.fromisoformat(listed[0]["opened_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert due.time() == time(17, 30) and timedelta(days=5) <= due - opened < timedelta(days=15)
    Worker(parks, worker_id="test-worker").run_until_idle()
    assert [n["kind"] for n in told(client, login, "admin")] == ["rectification_opened"]

    # the follow-up comes after the measures; the enterprise and strangers act on nothing
    path = f"/api/v1/rectifications/{rectification_id}"
    early = client.post(
        f"{path}/follow-up", json={"answer": "满意", "accepted": True}, headers=login("admin")
    )
    assert early.status_code == 409 and error_code(early) == "conflict"
    assert client.get(path, headers=login("xinghe")).status_code == 404
    assert (
        client.post(
            f"{path}/measures", json={"measures": "x"}, headers=login("other.admin")
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{path}/measures", json={"measures": "x"}, headers=login("zhang.wei")
        ).status_code
        == 403
    )
    assert (
        client.post(f"{path}/measures", json={"measures": ""}, headers=login("admin")).status_code
        == 422
    )

    measures = client.post(
        f"{path}/measures", json={"measures": "一次性告知补正材料清单"}, headers=login("admin")
    )
    assert measures.status_code == 200 and measures.json["status"] == "rectified"
    closed = client.post(
        f"{path}/follow-up",
        json={"answer": "电话回访：企业认可整改", "accepted": True},
        headers=login("admin"),
    )
    assert closed.status_code == 200, closed.json
    assert (closed.json["status"], closed.json["accepted"], closed.json["overdue"]) == (
        "closed",
        True,
        False,
    )
    again = client.post(
        f"{path}/follow-up", json={"answer": "再次", "accepted": True}, headers=login("admin")
    )
    assert again.status_code == 409

    trail = actions(client, login, instance_id)
    for action in (
        "application.rated",
        "rectification.opened",
        "rectification.recorded",
        "rating.followed_up",
        "rating.rectified",
    ):
        assert trail.count(action) == 1, (action, trail)
    Worker(parks, worker_id="test-worker").run_until_idle()
    outcome = [n for n in told(client, login, "xinghe") if n["kind"] == "rectified"]
    assert len(outcome) == 1 and "一次性告知补正材料清单" in outcome[0]["body"]
    assert client.get(STATS, headers=login("admin")).json["ratings"] == {
        "count": 1,
        "satisfied_rate": 0.0,
        "bad": 1,
        "bad_rectified": 1,
    }


def test_a_good_grade_opens_nothing_and_bad_input_is_refused(
    client: FlaskClient, login: Login
) -> None:
    instance_id = completed(client, login)
    url = f"/api/v1/instances/{instance_id}/rating"
    for body in (
        {"grade": 6},
        {"grade": "5"},
        {"grade": 5, "dimensions": {"speed": 5}},
        {"grade": 5, "dimensions": {"attitude": 0}},
        {},
    ):
        bad = client.post(url, json=body, headers=login("xinghe"))
        assert bad.status_code == 422, (body, bad.json)
    assert client.get(url, headers=login("xinghe")).status_code == 404
    assert client.post(url, json={"grade": 5}, headers=login("zhang.wei")).status_code == 403
    assert client.post(url, json={"grade": 5}, headers=login("lanhai")).status_code == 404
    good = client.post(url, json={"grade": 4}, headers=login("xinghe"))
    assert good.status_code == 201 and good.json["rectification_id"] is None
    assert client.post(url, json={"grade": 1}, headers=login("xinghe")).status_code == 409
    assert client.get("/api/v1/parks/demo/rectifications", headers=login("admin")).json == []
    assert (
        client.get("/api/v1/parks/demo/rectifications", headers=login("xinghe")).status_code == 403
    )


def test_the_group_of_the_settings_handles_and_late_ones_are_overdue(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    assert client.get(SETTINGS, headers=login("admin")).json == {
        "rectification_working_days": 5,
        "rectification_group": None,
        "rating_invitation_days": 3,
    }
    for body in (
        {"rectification_working_days": 0},
        {"rating_invitation_days": 61},
        {"rectification_group": "没有这个组"},
    ):
        assert client.patch(SETTINGS, json=body, headers=login("admin")).status_code == 422
    assert (
        client.patch(
            SETTINGS, json={"rectification_working_days": 15}, headers=login("zhang.wei")
        ).status_code
        == 403
    )
    changed = client.patch(
        SETTINGS,
        json={"rectification_working_days": 15, "rectification_group": "政策审核组"},
        headers=login("admin"),
    )
    assert changed.status_code == 200 and changed.json["rectification_working_days"] == 15

    instance_id = completed(client, login)
    rated = client.post(
        f"/api/v1/instances/{instance_id}/rating", json={"grade": 1}, headers=login("xinghe")
    )
    path = f"/api/v1/rectifications/{rated.json['rectification_id']}"
    shown = client.get(path, headers=login("zhang.wei")).json
    assert shown["group"] == "政策审核组" and not shown["overdue"]
    Worker(parks, worker_id="test-worker").run_until_idle()
    assert "rectification_opened" in [n["kind"] for n in told(client, login, "zhang.wei")]
    assert "rectification_opened" not in [n["kind"] for n in told(client, login, "admin")]
    assert (
        client.get("/api/v1/parks/demo/rectifications?overdue=true", headers=login("admin")).json
        == []
    )
    # fifteen working days are three weeks and more (with a holiday week, four): late after
    # six weeks (signed in again: the tokens would have expired)
    with time_machine.travel(utcnow() + timedelta(days=42)):
        late = client.get(
            "/api/v1/parks/demo/rectifications?overdue=true", headers=bearer(client, "admin")
        ).json
        assert [r["id"] for r in late] == [shown["id"]] and late[0]["overdue"]
        assert (
            client.post(
                f"{path}/measures",
                json={"measures": "补充培训"},
                headers=bearer(client, "zhang.wei"),
            ).status_code
            == 200
        )
        assert (
            client.post(
                f"{path}/measures", json={"measures": "x"}, headers=bearer(client, "li.na")
            ).status_code
            == 403
        )


def test_an_unrated_application_is_invited_once(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    rated_id = completed(client, login)
    unrated_id = completed(client, login)
    assert (
        client.post(
            f"/api/v1/instances/{rated_id}/rating", json={"grade": 5}, headers=login("xinghe")
        ).status_code
        == 201
    )
    worker = Worker(parks, worker_id="test-worker")
    worker.run_until_idle()
    assert "rating_invited" not in [n["kind"] for n in told(client, login, "xinghe")]
    with time_machine.travel(utcnow() + timedelta(days=3, minutes=1)):
        worker.run_until_idle()
        worker.run_until_idle()
    with time_machine.travel(utcnow() + timedelta(days=10)):
        worker.run_until_idle()
        invited = [
            n
            for n in client.get("/api/v1/notifications", headers=bearer(client, "xinghe")).json
            if n["kind"] == "rating_invited"
        ]
    assert [n["instance_id"] for n in invited] == [unrated_id]
    assert actions(client, login, unrated_id).count("rating.invited") == 1
    assert "rating.invited" not in actions(client, login, rated_id)
