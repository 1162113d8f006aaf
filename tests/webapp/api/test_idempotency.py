"""``Idempotency-Key``: the same request twice acts once and answers the same."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start, step
from webapp.db import Database, utcnow
from webapp.models import IdempotencyKey, Instance, User

TASKS = "/api/v1/tasks"
PARK = "/api/v1/parks/demo/instances"


def _keyed(key: str, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_completion_replayed(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    headers = _keyed("complete-1", login("zhang.wei"))
    body = {"data": {"outcome": "approve"}}

    first = client.post(f"{TASKS}/{task}/complete", json=body, headers=headers)
    second = client.post(f"{TASKS}/{task}/complete", json=body, headers=headers)
    unkeyed = client.post(f"{TASKS}/{task}/complete", json=body, headers=login("zhang.wei"))

    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert unkeyed.status_code == 409


def test_same_json_spelled_differently_is_the_same_request(client: FlaskClient,
                                                           login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    headers = _keyed("complete-2", login("zhang.wei"))
    url = f"{TASKS}/{task}/complete"

    first = client.post(url, data='{"data": {"outcome": "approve", "comment": "ok"}}',
                        content_type="application/json", headers=headers)
    second = client.post(url, data='{"data":{"comment":"ok","outcome":"approve"}}',
                         content_type="application/json", headers=headers)

    assert first.status_code == second.status_code == 200


def test_start_applied_once(client: FlaskClient, login: Login, parks: Database) -> None:
    headers = _keyed("start-1", login("xinghe"))
    body = {"process_key": "api_probe", "data": {}}

    first = client.post(PARK, json=body, headers=headers)
    second = client.post(PARK, json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json["id"] == first.json["id"]
    with parks.read() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 1


def test_key_reused_for_a_different_body_is_422(client: FlaskClient, login: Login) -> None:
    headers = _keyed("start-2", login("xinghe"))
    client.post(PARK, json={"process_key": "api_probe"}, headers=headers)

    other_body = client.post(PARK, json={"process_key": "api_probe", "data": {"x": 1}},
                             headers=headers)
    other_path = client.post("/api/v1/parks/other/instances", json={"process_key": "api_probe"},
                             headers=headers)

    assert other_body.status_code == 422
    assert error_code(other_body) == "idempotency_key_reused"
    assert other_path.status_code == 422


def test_keys_belong_to_their_user(client: FlaskClient, login: Login) -> None:
    body = {"process_key": "api_probe"}

    mine = client.post(PARK, json=body, headers=_keyed("shared", login("xinghe")))
    theirs = client.post(PARK, json=body, headers=_keyed("shared", login("lanhai")))

    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]


def test_failed_request_frees_its_key(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    headers = _keyed("retry-after-fix", login("zhang.wei"))
    url = f"{TASKS}/{task}/complete"

    wrong = client.post(url, json={"data": {"outcome": "maybe"}}, headers=headers)
    fixed = client.post(url, json={"data": {"outcome": "approve"}}, headers=headers)

    assert wrong.status_code == 422
    assert fixed.status_code == 200


def test_key_in_use_is_409(client: FlaskClient, login: Login, parks: Database) -> None:
    headers = _keyed("busy", login("xinghe"))
    body = {"process_key": "api_probe"}
    client.post(PARK, json=body, headers=headers)
    with parks.write() as session:
        row = session.scalars(select(IdempotencyKey)).one()
        # as if the first request were still running
        row.response_status = 0
        row.response_body = None

    busy = client.post(PARK, json=body, headers=headers)
    with time_machine.travel(utcnow() + timedelta(minutes=6)):
        # a reservation whose request died is taken over
        taken_over = client.post(PARK, json=body, headers=_keyed("busy", login("xinghe")))

    assert busy.status_code == 409
    assert error_code(busy) == "idempotency_key_in_use"
    assert taken_over.status_code == 201


def test_remembered_answers_expire(client: FlaskClient, login: Login, parks: Database) -> None:
    body = {"process_key": "api_probe"}
    first = client.post(PARK, json=body, headers=_keyed("daily", login("xinghe")))
    with parks.write() as session:
        user = session.scalars(select(User).where(User.username == "xinghe")).one()
        session.get_one(IdempotencyKey, (user.id, "daily")).created_at -= timedelta(hours=25)

    later = client.post(PARK, json=body, headers=_keyed("daily", login("xinghe")))

    assert later.status_code == 201
    assert later.json["id"] != first.json["id"]


def test_bad_keys_are_400(client: FlaskClient, login: Login) -> None:
    for key in ("", "x" * 201, "with space", "naïve"):
        response = client.post(PARK, json={"process_key": "api_probe"},
                               headers=_keyed(key, login("xinghe")))
        assert response.status_code == 400, key
