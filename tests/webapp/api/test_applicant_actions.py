"""The applicant's and the reader's actions: 撤回, 催办, 抄送 (by a reviewer and by the model),
the 已办 and 抄送我 tabs, the park's rules for them and the common phrases (常用语)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import complete_step, error_code, start, step
from webapp.db import Database, utcnow
from webapp.models import HumanTask, Park, User
from webapp.services import processes
from webapp.services.applications import complete_task, start_application
from webapp.worker import Worker

TASKS = "/api/v1/tasks"
SETTINGS = "/api/v1/parks/demo/settings"
COPIED_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_copied"
    targetNamespace="urn:parkflow:tests:api">
  <bpmn:process id="copied" name="抄送测试" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties><camunda:property name="cc" value="user:zhao.min"/></camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="copied_start"/>
    <bpmn:userTask id="copied_review" name="初审" camunda:candidateGroups="政策审核组"/>
    <bpmn:userTask id="copied_approve" name="复核" camunda:candidateGroups="部门负责人">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="cc" value="group:园区领导"/>
        </camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="copied_end"/>
    <bpmn:sequenceFlow id="c1" sourceRef="copied_start" targetRef="copied_review"/>
    <bpmn:sequenceFlow id="c2" sourceRef="copied_review" targetRef="copied_approve"/>
    <bpmn:sequenceFlow id="c3" sourceRef="copied_approve" targetRef="copied_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _post(
    client: FlaskClient, headers: dict[str, str], path: str, body: dict[str, Any] | None = None
) -> Any:
    return client.post(path, json=body if body is not None else {}, headers=headers)


def _audit(client: FlaskClient, login: Login, instance_id: str, action: str) -> list[dict]:
    trail = client.get(f"/api/v1/instances/{instance_id}/audit", headers=login("admin")).json
    return [entry for entry in trail if entry["action"] == action]


def _told(client: FlaskClient, login: Login, parks: Database, username: str) -> list[str]:
    """The kinds of the notifications ``username`` has, once the worker told everyone."""
    Worker(parks, worker_id="test-worker").run_until_idle()
    return [n["kind"] for n in client.get("/api/v1/notifications", headers=login(username)).json]


def _rules(client: FlaskClient, login: Login, **rules: Any) -> None:
    response = client.patch(SETTINGS, json=rules, headers=login("admin"))
    assert response.status_code == 200, response.json


# --- 撤回 ----------------------------------------------------------------------------------


def test_withdraw_before_any_reviewer_acted(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    view = start(client, login("xinghe"))

    response = _post(
        client,
        login("xinghe"),
        f"/api/v1/instances/{view['id']}/withdraw",
        {"reason": "材料有误，重新申请"},
    )

    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["result"]) == ("cancelled", "withdrawn")
    assert response.json["current_steps"] == []
    assert client.get(TASKS, headers=login("zhang.wei")).json == []
    [entry] = _audit(client, login, view["id"], "instance.withdrawn")
    assert entry["actor"] == "xinghe"
    assert entry["details"] == {"reason": "材料有误，重新申请", "holders": ["zhang.wei"]}
    assert "withdrawn" in _told(client, login, parks, "zhang.wei")
    assert "withdrawn" not in _told(client, login, parks, "xinghe")


def test_withdraw_after_a_reviewer_acted_follows_the_rule(
    client: FlaskClient, login: Login
) -> None:
    view = complete_step(
        client, login, start(client, login("xinghe")), "probe_review", {"outcome": "approve"}
    )
    path = f"/api/v1/instances/{view['id']}/withdraw"

    refused = _post(client, login("xinghe"), path)
    _rules(client, login, withdraw_rule="within_hours:2")
    with time_machine.travel(utcnow() + timedelta(hours=3)):
        too_late = _post(client, login("xinghe"), path)
    allowed = _post(client, login("xinghe"), path)

    assert refused.status_code == 409
    assert "Review" in refused.json["error"]["message"]
    assert too_late.status_code == 409
    assert "within 2 hours" in too_late.json["error"]["message"]
    assert allowed.status_code == 200, allowed.json
    assert allowed.json["result"] == "withdrawn"


def test_withdraw_never(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    _rules(client, login, withdraw_rule="never")

    response = _post(client, login("xinghe"), f"/api/v1/instances/{view['id']}/withdraw")

    assert response.status_code == 409
    assert error_code(response) == "conflict"


def test_withdraw_is_the_applicants(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    on_behalf = start(client, login("admin"), enterprise="星河科技有限公司")
    path = f"/api/v1/instances/{view['id']}/withdraw"

    assert _post(client, login("zhang.wei"), path).status_code == 403
    assert _post(client, login("admin"), path).status_code == 403
    assert _post(client, login("lanhai"), path).status_code == 404
    assert _post(client, login("other.ent"), path).status_code == 404
    assert _post(client, login("xinghe"), "/api/v1/instances/nope/withdraw").status_code == 404
    # who submitted it for the enterprise withdraws it, and so does the enterprise
    own = f"/api/v1/instances/{on_behalf['id']}/withdraw"
    assert _post(client, login("admin"), own).status_code == 200
    assert _post(client, login("xinghe"), path).status_code == 200


def test_withdraw_bad_input_and_twice(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    path = f"/api/v1/instances/{view['id']}/withdraw"

    too_long = _post(client, login("xinghe"), path, {"reason": "x" * 2001})
    not_text = _post(client, login("xinghe"), path, {"reason": ["a"]})
    first = _post(client, login("xinghe"), path)
    second = _post(client, login("xinghe"), path)

    assert too_long.status_code == not_text.status_code == 422
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already ended" in second.json["error"]["message"]


# --- 催办 ----------------------------------------------------------------------------------


def test_urge_tells_the_holders_once_per_interval(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    view = start(client, login("xinghe"))
    path = f"/api/v1/instances/{view['id']}/urge"

    first = _post(client, login("xinghe"), path, {"comment": "请尽快审核"})
    again = _post(client, login("xinghe"), path)

    assert first.status_code == 200, first.json
    assert again.status_code == 429
    assert error_code(again) == "rate_limited"
    assert again.json["error"]["details"]["retry_at"]
    assert int(again.headers["Retry-After"]) > 23 * 3600
    [entry] = _audit(client, login, view["id"], "instance.urged")
    assert entry["details"]["holders"] == ["zhang.wei"]
    assert entry["details"]["comment"] == "请尽快审核"
    assert [t["element_id"] for t in entry["details"]["tasks"]] == ["probe_review"]
    assert _told(client, login, parks, "zhang.wei").count("urged") == 1
    task = client.get(f"{TASKS}/{step(view, 'probe_review')}", headers=login("zhang.wei")).json
    assert task["urged"]["count"] == 1
    assert task["urged"]["last_at"] is not None
    other = step(start(client, login("lanhai")), "probe_review")
    assert client.get(f"{TASKS}/{other}", headers=login("zhang.wei")).json["urged"] is None


def test_urge_again_after_the_parks_interval(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    path = f"/api/v1/instances/{view['id']}/urge"
    _rules(client, login, urge_interval_hours=1)

    assert _post(client, login("xinghe"), path).status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=59)):
        assert _post(client, login("xinghe"), path).status_code == 429
    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        assert _post(client, login("xinghe"), path).status_code == 200
    assert len(_audit(client, login, view["id"], "instance.urged")) == 2


def test_urge_refusals(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    waiting = complete_step(
        client, login, start(client, login("xinghe")), "probe_review", {"outcome": "approve"}
    )
    path = f"/api/v1/instances/{view['id']}/urge"

    assert _post(client, login("zhang.wei"), path).status_code == 403
    assert _post(client, login("lanhai"), path).status_code == 404
    assert _post(client, login("xinghe"), path, {"comment": "x" * 2001}).status_code == 422
    # nobody of the park holds a step of it: it waits for a message
    nobody = _post(client, login("xinghe"), f"/api/v1/instances/{waiting['id']}/urge")
    assert nobody.status_code == 409
    _post(client, login("xinghe"), f"/api/v1/instances/{view['id']}/withdraw")
    assert _post(client, login("xinghe"), path).status_code == 409


# --- 抄送 ----------------------------------------------------------------------------------


def test_a_copied_leader_reads_but_cannot_act(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    view = start(client, login("xinghe"))
    task = step(view, "probe_review")

    copied = _post(
        client,
        login("zhang.wei"),
        f"/api/v1/instances/{view['id']}/cc",
        {"usernames": ["wang.qiang"], "comment": "请领导知悉"},
    )

    assert copied.status_code == 200, copied.json
    leader = login("wang.qiang")
    assert client.get(f"/api/v1/instances/{view['id']}", headers=leader).status_code == 200
    assert client.get(f"/api/v1/instances/{view['id']}/audit", headers=leader).status_code == 200
    assert [i["id"] for i in client.get("/api/v1/parks/demo/instances", headers=leader).json] == [
        view["id"]
    ]
    assert client.get(f"{TASKS}/{task}", headers=leader).status_code == 403
    completing = _post(client, leader, f"{TASKS}/{task}/complete", {"data": {"outcome": "approve"}})
    assert completing.status_code == 403
    assert _post(client, leader, f"{TASKS}/{task}/claim").status_code == 403
    assert _post(client, leader, f"/api/v1/instances/{view['id']}/cancel").status_code == 403
    assert client.get(TASKS, headers=leader).json == []
    [entry] = _audit(client, login, view["id"], "instance.cc")
    assert entry["details"] == {"usernames": ["wang.qiang"], "comment": "请领导知悉"}
    assert "cc" in _told(client, login, parks, "wang.qiang")


def test_the_cc_tab_marks_what_was_read(client: FlaskClient, login: Login) -> None:
    first = start(client, login("xinghe"))
    second = start(client, login("lanhai"))
    for view in (first, second):
        _post(
            client,
            login("zhang.wei"),
            f"/api/v1/instances/{view['id']}/cc",
            {"usernames": ["wang.qiang"]},
        )
    leader = login("wang.qiang")

    before = client.get(f"{TASKS}?scope=cc", headers=leader).json
    read = _post(client, leader, f"/api/v1/instances/{first['id']}/cc/read")
    after = client.get(f"{TASKS}?scope=cc", headers=leader).json
    page = client.get(f"{TASKS}?scope=cc&limit=1", headers=leader)

    assert [(i["instance_id"], i["read"]) for i in before] == [
        (second["id"], False),
        (first["id"], False),
    ]
    assert read.status_code == 204
    assert [(i["instance_id"], i["read"]) for i in after] == [
        (second["id"], False),
        (first["id"], True),
    ]
    assert after[0]["copied_by"] == "zhang.wei"
    assert [s["name"] for s in after[0]["current_steps"]] == ["Review"]
    assert after[0]["result"] is None
    link = page.headers["Link"]
    rest = client.get(link[1 : link.index(">")], headers=leader).json
    assert [i["instance_id"] for i in page.json + rest] == [second["id"], first["id"]]
    assert client.get(f"{TASKS}?scope=cc", headers=login("li.na")).json == []


def test_who_may_copy_and_to_whom(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    path = f"/api/v1/instances/{view['id']}/cc"
    _post(client, login("zhang.wei"), path, {"usernames": ["wang.qiang"]})

    # not involved in it: cannot even see it
    assert _post(client, login("li.na"), path, {"usernames": ["zhao.min"]}).status_code == 404
    # copied, reads it, but holds no task of it
    assert _post(client, login("wang.qiang"), path, {"usernames": ["li.na"]}).status_code == 403
    assert _post(client, login("xinghe"), path, {"usernames": ["li.na"]}).status_code == 403
    assert _post(client, login("admin"), path, {"usernames": ["li.na"]}).status_code == 200
    for names in ([], ["nobody"], ["xinghe"], ["zhang.wei"], ["other.reviewer"], [""]):
        response = _post(client, login("zhang.wei"), path, {"usernames": names})
        assert response.status_code == 422, names
    assert _post(client, login("zhang.wei"), path, {}).status_code == 422
    refused = _post(client, login("zhang.wei"), path, {"usernames": ["nobody", "xinghe"]})
    assert "nobody" in refused.json["error"]["message"]
    assert "xinghe" in refused.json["error"]["message"]


def test_the_model_copies_on_submission_and_when_a_task_is_reached(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    with parks.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session, park=park, actor="test", bpmn={"copied.bpmn": COPIED_MODEL.encode()}, forms={}
        )
    view = start(client, login("xinghe"), "copied")

    submitted = client.get(f"{TASKS}?scope=cc", headers=login("zhao.min")).json
    before = client.get(f"{TASKS}?scope=cc", headers=login("wang.qiang")).json
    view = complete_step(client, login, view, "copied_review", {})
    reached = client.get(f"{TASKS}?scope=cc", headers=login("wang.qiang")).json

    assert [i["instance_id"] for i in submitted] == [view["id"]]
    assert submitted[0]["copied_by"] is None
    assert before == []
    assert [(i["instance_id"], i["element_id"]) for i in reached] == [
        (view["id"], "copied_approve")
    ]
    entries = _audit(client, login, view["id"], "instance.cc")
    assert [(e["actor"], e["details"]["usernames"]) for e in entries] == [
        (None, ["zhao.min"]),
        (None, ["wang.qiang"]),
    ]
    assert entries[1]["details"]["element_id"] == "copied_approve"
    assert "cc" in _told(client, login, parks, "wang.qiang")


def test_a_cc_property_naming_nobody_is_refused_at_deploy(
    client: FlaskClient, login: Login
) -> None:
    bad = COPIED_MODEL.replace('value="group:园区领导"', 'value="leaders"')

    response = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": bad}, headers=login("admin")
    )

    assert response.status_code == 422
    assert any(
        p["element_id"] == "copied_approve" and "cc" in p["message"]
        for p in response.json["error"]["details"]
    )


# --- 已办 ----------------------------------------------------------------------------------


def test_the_done_tab_lists_what_i_completed(client: FlaskClient, login: Login) -> None:
    first = complete_step(
        client, login, start(client, login("xinghe")), "probe_review", {"outcome": "approve"}
    )
    second = complete_step(
        client, login, start(client, login("lanhai")), "probe_review", {"outcome": "reject"}
    )

    done = client.get(f"{TASKS}?scope=done", headers=login("zhang.wei"))
    page = client.get(f"{TASKS}?scope=done&limit=1", headers=login("zhang.wei"))

    assert done.status_code == 200
    assert [(i["instance_id"], i["outcome"]) for i in done.json] == [
        (second["id"], "reject"),
        (first["id"], "approve"),
    ]
    assert done.json[0]["status"] == "completed"
    assert done.json[0]["completed_by"] == "zhang.wei"
    assert done.json[0]["current_steps"] == []  # it waits for a message
    link = page.headers["Link"]
    rest = client.get(link[1 : link.index(">")], headers=login("zhang.wei")).json
    assert [i["task_id"] for i in page.json + rest] == [i["task_id"] for i in done.json]
    assert client.get(f"{TASKS}?scope=done", headers=login("li.na")).json == []
    assert client.get(f"{TASKS}?scope=done", headers=login("other.reviewer")).json == []
    assert client.get(f"{TASKS}?scope=later", headers=login("zhang.wei")).status_code == 422
    bad = client.get(f"{TASKS}?scope=done&cursor=abc", headers=login("zhang.wei"))
    assert bad.status_code == 400


# --- the park's rules ----------------------------------------------------------------------


def test_the_rules_are_read_by_members_and_changed_by_admins(
    client: FlaskClient, login: Login
) -> None:
    assert client.get(SETTINGS, headers=login("xinghe")).json == {
        "withdraw_rule": "before_action",
        "urge_interval_hours": 24,
    }
    assert (
        client.patch(
            SETTINGS, json={"urge_interval_hours": 2}, headers=login("zhang.wei")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/parks/other/settings", headers=login("xinghe")).status_code == 404
    for bad in (
        {"withdraw_rule": "sometimes"},
        {"withdraw_rule": "within_hours:0"},
        {"withdraw_rule": "within_hours:x"},
        {"urge_interval_hours": 0},
        {"urge_interval_hours": "2"},
        {"urge_interval_hours": 10**6},
    ):
        assert client.patch(SETTINGS, json=bad, headers=login("admin")).status_code == 422, bad

    changed = client.patch(
        SETTINGS, json={"withdraw_rule": " within_hours:12 "}, headers=login("admin")
    )

    assert changed.json == {"withdraw_rule": "within_hours:12", "urge_interval_hours": 24}


# --- 常用语 --------------------------------------------------------------------------------


def test_common_phrases(client: FlaskClient, login: Login) -> None:
    url = "/api/v1/me/phrases"
    defaults = client.get(url, headers=login("zhang.wei")).json

    added = client.post(url, json={"text": " 情况属实，同意。 "}, headers=login("zhang.wei"))
    again = client.post(url, json={"text": "情况属实，同意。"}, headers=login("zhang.wei"))
    listed = client.get(url, headers=login("zhang.wei")).json
    theirs = client.get(url, headers=login("li.na")).json
    not_hers = client.delete(f"{url}/{added.json['id']}", headers=login("li.na"))
    removed = client.delete(f"{url}/{added.json['id']}", headers=login("zhang.wei"))

    assert [p["text"] for p in defaults] == ["同意。", "材料齐全，同意。", "请补充材料后重新提交。"]
    assert all(p["builtin"] and p["id"] is None for p in defaults)
    assert added.status_code == again.status_code == 201
    assert (
        added.json
        == again.json
        == {"id": added.json["id"], "text": "情况属实，同意。", "builtin": False}
    )
    assert listed[-1] == added.json
    assert theirs == defaults
    assert not_hers.status_code == 404
    assert removed.status_code == 204
    assert client.get(url, headers=login("zhang.wei")).json == defaults
    for bad in ({"text": ""}, {"text": "   "}, {"text": "x" * 501}, {}):
        assert client.post(url, json=bad, headers=login("zhang.wei")).status_code == 422, bad
    assert client.delete(f"{url}/999999", headers=login("zhang.wei")).status_code == 404


def test_the_notifications_speak_the_recipients_language(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    with parks.write() as session:
        session.execute(update(User).where(User.username == "zhang.wei").values(locale="en"))
    view = start(client, login("xinghe"))
    _post(client, login("xinghe"), f"/api/v1/instances/{view['id']}/urge", {"comment": "急"})
    _post(
        client,
        login("zhang.wei"),
        f"/api/v1/instances/{view['id']}/cc",
        {"usernames": ["wang.qiang"]},
    )
    Worker(parks, worker_id="test-worker").run_until_idle()

    def told(username: str, kind: str) -> list[dict[str, Any]]:
        found = client.get("/api/v1/notifications", headers=login(username)).json
        return [n for n in found if n["kind"] == kind]

    [urged] = told("zhang.wei", "urged")
    [copied] = told("wang.qiang", "cc")

    assert urged["kind"] == "urged"
    assert urged["title"] == f"Urged: Review ({view['reference']})"
    assert urged["body"].endswith("Note: 急")
    assert urged["task_id"] == step(view, "probe_review")
    assert copied["kind"] == "cc"
    assert copied["title"] == f"抄送：API probe（{view['reference']}）"
    assert copied["body"].startswith("zhang.wei 将API probe")


def test_a_step_of_a_model_without_cc_reads_nothing_of_copies(parks: Database) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "instance_copies" in statement or "urges" in statement:
            seen.append(statement)

    event.listen(parks.engine, "before_cursor_execute", record)
    try:
        instance_id = start_application(
            parks, park_slug="demo", process_key="api_probe", data={}, actor="xinghe"
        )
        with parks.read() as session:
            task_id = session.scalars(
                select(HumanTask.id).where(HumanTask.instance_id == instance_id)
            ).one()
        complete_task(parks, task_id=task_id, data={"outcome": "approve"}, actor="zhang.wei")
    finally:
        event.remove(parks.engine, "before_cursor_execute", record)

    assert seen == []
