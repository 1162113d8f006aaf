"""退回 from and into a 会签 node over HTTP.

A signer's return stops the whole node: the other signers' open tasks close (audited
``task.closed_by_return``) and the token goes back. With 直达 the resubmission goes straight
back to the node, which opens afresh for all three departments; a return into the node from a
later step re-opens it the same way.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import complete_step, error_code, start, step
from tests.webapp.api.test_approval_modes import DEPARTMENTS, audit_of, sign, signers
from webapp.db import Database
from webapp.models import Park
from webapp.services import processes

TASKS = "/api/v1/tasks"
REASONS = ["缺少财务审计报告"]

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_joint_back"
    targetNamespace="urn:parkflow:tests:api">
  <bpmn:collaboration id="c"><bpmn:participant id="p" processRef="joint_back"/>
  </bpmn:collaboration>
  <bpmn:process id="joint_back" name="联审退回" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="Lane_enterprise" name="企业">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>supplement</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_review" name="政策审核组">
        <bpmn:flowNodeRef>step1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>more_needed</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>merge</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>sign</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>archive</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="提交申请"/>
    <bpmn:userTask id="step1" name="初审"/>
    <bpmn:exclusiveGateway id="more_needed" default="f_no_more"/>
    <bpmn:userTask id="supplement" name="补充材料"/>
    <bpmn:exclusiveGateway id="merge"/>
    <bpmn:userTask id="sign" name="联合审查" camunda:candidateGroups="财务部,招商服务部,税务服务组">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="approvalMode" value="all"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="archive" name="归档"/>
    <bpmn:endEvent id="done" name="办结"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step1"/>
    <bpmn:sequenceFlow id="f2" sourceRef="step1" targetRef="more_needed"/>
    <bpmn:sequenceFlow id="f_more" sourceRef="more_needed" targetRef="supplement">
      <bpmn:conditionExpression>${needs_more}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no_more" sourceRef="more_needed" targetRef="merge"/>
    <bpmn:sequenceFlow id="f3" sourceRef="supplement" targetRef="merge"/>
    <bpmn:sequenceFlow id="f4" sourceRef="merge" targetRef="sign"/>
    <bpmn:sequenceFlow id="f5" sourceRef="sign" targetRef="archive"/>
    <bpmn:sequenceFlow id="f6" sourceRef="archive" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def deployed(parks: Database) -> Database:
    with parks.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session, park=park, actor="test", bpmn={"joint_back.bpmn": PROCESS.encode()}, forms={}
        )
    return parks


def at_the_node(client: FlaskClient, login: Login) -> dict[str, Any]:
    view = start(client, login("xinghe"), "joint_back", data={"needs_more": False})
    view = complete_step(client, login, view, "step1", {"checked": 1}, who="zhang.wei")
    assert sorted(signers(view)) == sorted(DEPARTMENTS)
    return view


def send_back(
    client: FlaskClient, login: Login, task_id: str, who: str, to: str, resume: str = "flow"
) -> Any:
    return client.post(
        f"{TASKS}/{task_id}/return",
        headers=login(who),
        json={"to": to, "reasons": REASONS, "resume": resume, "comment": "请补齐后再报"},
    )


def test_a_signers_return_closes_the_node_and_straight_back_reopens_it_for_all(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = at_the_node(client, login)
    first = signers(view)
    assert sign(client, login, first["zhao.min"], "zhao.min").status_code == 200
    targets = client.get(
        f"{TASKS}/{first['chen.jie']}/return-targets", headers=login("chen.jie")
    ).json
    assert targets == [
        {"element_id": "step1", "name": "初审"},
        {"element_id": "applicant", "name": "补充材料"},
    ]

    answer = send_back(client, login, first["chen.jie"], "chen.jie", "step1", "to_me")
    assert answer.status_code == 200, answer.json
    # the whole node stopped: only the first step is open, back with 张伟
    [current] = answer.json["current_steps"]
    assert (current["element_id"], current["assignee"]) == ("step1", "zhang.wei")
    # 刘洋's task closed with the return; he can no longer act on it
    assert sign(client, login, first["liu.yang"], "liu.yang").status_code == 409
    events = audit_of(client, login, view["id"])
    closed = [e for e in events if e["action"] == "task.closed_by_return"]
    assert [(e["details"]["task_id"], e["details"]["assignee"]) for e in closed] == [
        (first["liu.yang"], "liu.yang")
    ]
    assert closed[0]["details"]["by"] == "chen.jie"
    returned = [e for e in events if e["action"] == "task.returned"]
    assert [(e["details"]["to"], e["details"]["resume"]) for e in returned] == [("step1", "to_me")]

    # 直达: the resubmission goes straight back to the node, fresh for all three departments
    again = complete_step(client, login, answer.json, "step1", {"checked": 2}, who="zhang.wei")
    second = signers(again)
    assert sorted(second) == sorted(DEPARTMENTS)
    assert not set(second.values()) & set(first.values())
    detail = client.get(f"{TASKS}/{second['zhao.min']}", headers=login("zhao.min")).json
    # 赵敏's approval of the first round does not count in the new one
    assert (detail["approval"]["total"], detail["approval"]["approved"]) == (3, 0)
    for who in DEPARTMENTS:
        last = sign(client, login, second[who], who)
        assert last.status_code == 200, last.json
    assert [s["element_id"] for s in last.json["current_steps"]] == ["archive"]


def test_a_return_into_the_countersign_reopens_it_for_every_signer(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = at_the_node(client, login)
    tasks = signers(view)
    for who in DEPARTMENTS:
        view = sign(client, login, tasks[who], who).json
    archive = step(view, "archive")
    targets = client.get(f"{TASKS}/{archive}/return-targets", headers=login("zhang.wei")).json
    assert [t["element_id"] for t in targets] == ["sign", "step1", "applicant"]
    answer = send_back(client, login, archive, "zhang.wei", "sign")
    assert answer.status_code == 200, answer.json
    again = signers(answer.json)
    assert sorted(again) == sorted(DEPARTMENTS)
    assert not set(again.values()) & set(tasks.values())
    # a return that closes no signers' tasks records none
    events = audit_of(client, login, view["id"])
    assert not [e for e in events if e["action"] == "task.closed_by_return"]


def test_a_signer_returns_to_the_applicant(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    tasks = signers(at_the_node(client, login))
    answer = send_back(client, login, tasks["liu.yang"], "liu.yang", "applicant")
    assert answer.status_code == 200, answer.json
    assert [s["element_id"] for s in answer.json["current_steps"]] == ["supplement"]
    closed = [
        e["details"]["assignee"]
        for e in audit_of(client, login, answer.json["id"])
        if e["action"] == "task.closed_by_return"
    ]
    assert sorted(closed) == ["chen.jie", "zhao.min"]


def test_a_signers_return_refused_says_why(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    tasks = signers(at_the_node(client, login))
    # another signer's task is not theirs to return
    assert send_back(client, login, tasks["chen.jie"], "liu.yang", "step1").status_code == 403
    # the node itself and the steps after it are no earlier steps
    for to in ("sign", "archive", "nowhere"):
        answer = send_back(client, login, tasks["chen.jie"], "chen.jie", to)
        assert answer.status_code == 422, (to, answer.json)
        assert error_code(answer) == "invalid"
    assert send_back(client, login, tasks["chen.jie"], "chen.jie", "step1").status_code == 200
    # the other signers' tasks closed with it
    late = send_back(client, login, tasks["zhao.min"], "zhao.min", "step1")
    assert late.status_code == 409, late.json
    assert error_code(late) == "conflict"


def test_a_return_closes_the_added_signatures_of_the_node_too(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = at_the_node(client, login)
    tasks = signers(view)
    added = client.post(
        f"{TASKS}/{tasks['chen.jie']}/add-signers",
        json={"usernames": ["li.na"], "position": "before"},
        headers=login("chen.jie"),
    )
    assert added.status_code == 200, added.json
    [extra] = [
        t["task_id"]
        for t in client.get(f"{TASKS}?scope=mine", headers=login("li.na")).json
        if t["instance_id"] == view["id"]
    ]
    answer = send_back(client, login, tasks["liu.yang"], "liu.yang", "step1")
    assert answer.status_code == 200, answer.json
    assert [s["element_id"] for s in answer.json["current_steps"]] == ["step1"]
    # 李娜's added signature went with 陈杰's task
    assert sign(client, login, extra, "li.na").status_code == 409
    assert not [
        t
        for t in client.get(f"{TASKS}?scope=mine", headers=login("li.na")).json
        if t["instance_id"] == view["id"]
    ]
