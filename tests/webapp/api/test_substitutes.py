"""委托 over the API: naming a substitute, the window that routes tasks to them, the admins'
view, and the people picker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start
from webapp.db import Database, utcnow
from webapp.models import AuditEvent

ME = "/api/v1/me/substitute"
# one step for li.na alone, then one assigned to her
NAMED_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="defs_named" targetNamespace="urn:parkflow:tests:substitutes">
  <bpmn:process id="named_review" name="Named review" isExecutable="true">
    <bpmn:startEvent id="named_start"/>
    <bpmn:userTask id="named_first" name="First look" camunda:candidateUsers="li.na"/>
    <bpmn:userTask id="named_second" name="Sign-off" camunda:assignee="li.na"/>
    <bpmn:endEvent id="named_end"/>
    <bpmn:sequenceFlow id="n1" sourceRef="named_start" targetRef="named_first"/>
    <bpmn:sequenceFlow id="n2" sourceRef="named_first" targetRef="named_second"/>
    <bpmn:sequenceFlow id="n3" sourceRef="named_second" targetRef="named_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _deploy(client: FlaskClient, login: Login) -> None:
    response = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": NAMED_BPMN}, headers=login("admin")
    )
    assert response.status_code in (200, 201), response.json


def _window(hours_from: float, hours_until: float) -> dict[str, str]:
    now = utcnow()
    return {
        "from": (now + timedelta(hours=hours_from)).isoformat(),
        "until": (now + timedelta(hours=hours_until)).isoformat(),
    }


def _set(
    client: FlaskClient, login: Login, who: str, substitute: str, window: dict[str, str]
) -> Any:
    return client.put(ME, json={"username": substitute, **window}, headers=login(who))


def _first_step(view: dict[str, Any]) -> dict[str, Any]:
    [current] = view["current_steps"]
    return dict(current)


def test_set_show_and_end(client: FlaskClient, login: Login) -> None:
    window = _window(0, 48)

    saved = _set(client, login, "li.na", "wang.qiang", window)

    assert saved.status_code == 200, saved.json
    body = saved.json
    assert (body["username"], body["substitute"], body["park"], body["active"]) == (
        "li.na",
        "wang.qiang",
        "demo",
        True,
    )
    assert client.get(ME, headers=login("li.na")).json == [body]
    assert client.get(ME, headers=login("wang.qiang")).json == []
    # a new one replaces the old
    again = _set(client, login, "li.na", "zhao.min", window)
    assert [s["substitute"] for s in client.get(ME, headers=login("li.na")).json] == ["zhao.min"]
    assert again.status_code == 200
    assert client.delete(ME, headers=login("li.na")).status_code == 204
    assert client.get(ME, headers=login("li.na")).json == []


def test_refusals(client: FlaskClient, login: Login) -> None:
    window = _window(0, 48)
    for who, substitute, chosen, status in (
        ("li.na", "li.na", window, 422),
        ("li.na", "xinghe", window, 422),
        ("li.na", "other.reviewer", window, 422),
        ("li.na", "nobody", window, 422),
        ("li.na", "wang.qiang", _window(5, 1), 422),
        ("li.na", "wang.qiang", _window(-5, -1), 422),
        ("xinghe", "lanhai", window, 403),
    ):
        refused = _set(client, login, who, substitute, chosen)
        assert refused.status_code == status, (who, substitute, refused.json)
        error_code(refused)
    naive = client.put(
        ME,
        json={
            "username": "wang.qiang",
            "from": "2026-03-02T09:00:00",
            "until": "2026-03-05T09:00:00",
        },
        headers=login("li.na"),
    )
    assert naive.status_code == 422
    assert (
        client.put(ME, json={"username": "wang.qiang"}, headers=login("li.na")).status_code == 422
    )


def test_admins_see_and_end_the_parks_substitutions(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    saved = _set(client, login, "li.na", "wang.qiang", _window(0, 48)).json
    url = "/api/v1/parks/demo/substitutes"

    listed = client.get(url, headers=login("admin"))

    assert listed.status_code == 200 and [s["id"] for s in listed.json] == [saved["id"]]
    assert client.get(url, headers=login("zhang.wei")).status_code == 403
    assert client.get("/api/v1/parks/other/substitutes", headers=login("admin")).status_code == 404
    assert client.delete(f"{url}/{saved['id']}", headers=login("zhang.wei")).status_code == 403
    assert (
        client.delete(
            f"/api/v1/parks/other/substitutes/{saved['id']}", headers=login("other.admin")
        ).status_code
        == 404
    )
    assert client.delete(f"{url}/{saved['id']}", headers=login("admin")).status_code == 204
    assert client.get(url, headers=login("admin")).json == []
    audit = [e for e in _user_audit(parks) if e.startswith("substitute.")]
    assert audit == ["substitute.set", "substitute.ended"]


def _user_audit(db: Database) -> list[str]:
    """The actions of the audit events of no application, oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.instance_id.is_(None))
                .order_by(AuditEvent.id)
            )
        )


def test_tasks_that_name_someone_away_reach_the_substitute_in_the_window(
    client: FlaskClient, login: Login
) -> None:
    _deploy(client, login)
    headers = {"li.na": login("li.na"), "wang.qiang": login("wang.qiang")}
    assert _set(client, login, "li.na", "wang.qiang", _window(2, 5)).status_code == 200

    before = _first_step(start(client, login("xinghe"), "named_review"))
    with time_machine.travel(utcnow() + timedelta(hours=3)):
        during = start(client, login("xinghe"), "named_review")
        routed = _first_step(during)
        inbox = client.get("/api/v1/tasks?scope=mine", headers=headers["wang.qiang"]).json
        done = client.post(
            f"/api/v1/tasks/{routed['task_id']}/complete",
            json={"data": {}},
            headers=headers["wang.qiang"],
        )
        audit = client.get(f"/api/v1/instances/{during['id']}/audit", headers=login("admin")).json
    with time_machine.travel(utcnow() + timedelta(hours=6)):
        after = _first_step(start(client, login("xinghe"), "named_review"))

    assert before["assignee"] is None  # before the window: li.na's, as drawn
    assert routed["assignee"] == "wang.qiang"
    assert [(i["task_id"], i["on_behalf_of"]) for i in inbox] == [(routed["task_id"], "li.na")]
    assert done.status_code == 200, done.json
    # the next step, assigned to li.na, goes to her substitute as well
    assert _first_step(done.json)["assignee"] == "wang.qiang"
    assert done.json["history"][-1]["completed_by"] == "wang.qiang"
    substituted = [e["details"] for e in audit if e["action"] == "task.substituted"]
    assert [(d["element_id"], d["for_user"], d["substitute"]) for d in substituted] == [
        ("named_first", "li.na", "wang.qiang"),
        ("named_second", "li.na", "wang.qiang"),
    ]
    assert after["assignee"] is None


def test_people_picker(client: FlaskClient, login: Login) -> None:
    everyone = client.get("/api/v1/people", headers=login("zhang.wei"))
    leaders = client.get("/api/v1/people?q=园区领导", headers=login("zhang.wei"))
    by_name = client.get("/api/v1/people?q=李娜", headers=login("zhang.wei"))

    assert everyone.status_code == 200
    names = [p["username"] for p in everyone.json]
    assert "li.na" in names and "admin" in names
    assert "xinghe" not in names and "other.reviewer" not in names
    assert [p["username"] for p in leaders.json] == ["wang.qiang"]
    assert by_name.json == [
        {
            "username": "li.na",
            "display_name": "李娜（部门负责人）",
            "role": "reviewer",
            "groups": ["部门负责人"],
        }
    ]
    assert client.get("/api/v1/people?q=%25", headers=login("zhang.wei")).json == []
    assert client.get("/api/v1/people", headers=login("xinghe")).status_code == 403
    assert client.get("/api/v1/people?park=other", headers=login("zhang.wei")).status_code == 404
    assert client.get("/api/v1/people?limit=0", headers=login("zhang.wei")).status_code == 422
