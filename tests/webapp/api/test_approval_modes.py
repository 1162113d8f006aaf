"""Approval modes over HTTP: 会签 across three departments, 或签, who may sign which task.

Each signer of an approval node has a task of their own, assigned to them; when the mode
settles the node, the other signers' tasks are cancelled and the audit says
``task.closed_by_mode``. The step after the node branches on the node's result.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start
from webapp.db import Database
from webapp.models import Park
from webapp.services import accounts, processes

TASKS = "/api/v1/tasks"
DEPARTMENTS = ("zhao.min", "chen.jie", "liu.yang")  # 财务部, 招商服务部, 税务服务组


def approval_process(key: str, mode: str, people: str, extra: str = "") -> str:
    """start → the approval node → approved: 归档 | otherwise: 告知驳回 (both 政策审核组)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_{key}"
    targetNamespace="urn:parkflow:tests:api">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="apply"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="sign" name="联合审查" {people}>
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="approvalMode" value="{mode}"/>{extra}
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="decided" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="archive" name="归档" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="tell_rejection" name="告知驳回" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="apply" targetRef="sign"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="decided"/>
    <bpmn:sequenceFlow id="f3" sourceRef="decided" targetRef="archive">
      <bpmn:conditionExpression>${{approval == "approved"}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="decided" targetRef="tell_rejection"/>
    <bpmn:sequenceFlow id="f5" sourceRef="archive" targetRef="done"/>
    <bpmn:sequenceFlow id="f6" sourceRef="tell_rejection" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>"""


COUNTERSIGN = approval_process(
    "countersign", "all", 'camunda:candidateGroups="财务部,招商服务部,税务服务组"'
)
OR_SIGN = approval_process("or_sign", "any", 'camunda:candidateUsers="zhao.min,chen.jie,liu.yang"')
BY_SHARE = approval_process(
    "by_share", "ratio:0.6", 'camunda:candidateUsers="zhao.min,chen.jie,liu.yang"'
)
IN_TURN = approval_process("in_turn", "sequential", 'camunda:candidateUsers="liu.yang,zhao.min"')


@pytest.fixture
def deployed(parks: Database) -> Database:
    """The demo park with the three approval procedures deployed."""
    with parks.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        for key, source in (
            ("countersign", COUNTERSIGN),
            ("or_sign", OR_SIGN),
            ("in_turn", IN_TURN),
            ("by_share", BY_SHARE),
        ):
            processes.deploy(
                session, park=park, actor="test", bpmn={f"{key}.bpmn": source.encode()}, forms={}
            )
    return parks


def signers(view: dict[str, Any]) -> dict[str, str]:
    """assignee -> task id of the approval node's open steps."""
    return {s["assignee"]: s["task_id"] for s in view["current_steps"] if s["element_id"] == "sign"}


def elements(view: dict[str, Any]) -> list[str]:
    return sorted(s["element_id"] for s in view["current_steps"])


def sign(client: FlaskClient, login: Login, task_id: str, who: str, approved: bool = True) -> Any:
    return client.post(
        f"{TASKS}/{task_id}/complete", json={"data": {"approved": approved}}, headers=login(who)
    )


def audit_of(client: FlaskClient, login: Login, instance_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/instances/{instance_id}/audit", headers=login("admin"))
    assert response.status_code == 200
    return list(response.json)


def test_three_department_countersign_completes(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = start(client, login("xinghe"), "countersign")
    tasks = signers(view)
    assert sorted(tasks) == sorted(DEPARTMENTS)
    for who in DEPARTMENTS:  # each sees their own task, assigned to them
        mine = client.get(f"{TASKS}?scope=mine", headers=login(who)).json
        assert [(t["task_id"], t["assignee"]) for t in mine] == [(tasks[who], who)]
    detail = client.get(f"{TASKS}/{tasks['chen.jie']}", headers=login("chen.jie")).json
    assert detail["approval"]["mode"] == "all"
    assert (detail["approval"]["total"], detail["approval"]["approved"]) == (3, 0)

    assert sign(client, login, tasks["zhao.min"], "zhao.min").status_code == 200
    after = sign(client, login, tasks["chen.jie"], "chen.jie")
    assert after.status_code == 200
    assert list(signers(after.json)) == ["liu.yang"]
    detail = client.get(f"{TASKS}/{tasks['liu.yang']}", headers=login("liu.yang")).json
    assert [(s["username"], s["decision"]) for s in detail["approval"]["signers"]] == [
        ("zhao.min", "approved"),
        ("chen.jie", "approved"),
        ("liu.yang", None),
    ]

    last = sign(client, login, tasks["liu.yang"], "liu.yang").json
    assert elements(last) == ["archive"]  # the gateway after the node saw "approved"
    # the step after sees each signer's decision, with who took it, beside its form
    archive = [s["task_id"] for s in last["current_steps"]][0]
    context = client.get(f"{TASKS}/{archive}", headers=login("zhang.wei")).json["context"]
    assert sorted(
        (d["element_id"], d["completed_by"], d["data"]["approved"]) for d in context["decisions"]
    ) == sorted(("sign", who, True) for who in DEPARTMENTS)
    done = [e for e in audit_of(client, login, view["id"]) if e["action"] == "task.completed"]
    assert sorted(e["actor"] for e in done) == sorted(DEPARTMENTS)
    assert not [
        e for e in audit_of(client, login, view["id"]) if e["action"] == "task.closed_by_mode"
    ]


def test_a_countersign_rejection_rejects_and_closes_the_others(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = start(client, login("xinghe"), "countersign")
    tasks = signers(view)
    after = sign(client, login, tasks["chen.jie"], "chen.jie", approved=False).json
    assert elements(after) == ["tell_rejection"]

    for who in ("zhao.min", "liu.yang"):
        closed = client.get(f"{TASKS}/{tasks[who]}", headers=login(who)).json
        assert closed["status"] == "cancelled"
        late = sign(client, login, tasks[who], who)
        assert (late.status_code, error_code(late)) == (409, "conflict")
    closing = [
        e for e in audit_of(client, login, view["id"]) if e["action"] == "task.closed_by_mode"
    ]
    assert sorted(
        (e["details"]["task_id"], e["details"]["mode"], e["details"]["by"]) for e in closing
    ) == sorted((tasks[who], "all", "chen.jie") for who in ("zhao.min", "liu.yang"))
    assert {e["details"]["element_id"] for e in closing} == {"sign"}


def test_or_sign_the_first_decision_closes_the_others(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = start(client, login("xinghe"), "or_sign")
    tasks = signers(view)
    assert sorted(tasks) == sorted(DEPARTMENTS)
    after = sign(client, login, tasks["liu.yang"], "liu.yang").json
    assert elements(after) == ["archive"]
    for who in ("zhao.min", "chen.jie"):
        assert client.get(f"{TASKS}?scope=mine", headers=login(who)).json == []
    closing = [
        e for e in audit_of(client, login, view["id"]) if e["action"] == "task.closed_by_mode"
    ]
    assert sorted(e["details"]["assignee"] for e in closing) == ["chen.jie", "zhao.min"]
    assert {(e["actor"], e["details"]["mode"]) for e in closing} == {("liu.yang", "any")}


def test_a_signer_may_not_complete_another_signers_task(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    tasks = signers(start(client, login("xinghe"), "countersign"))
    refused = sign(client, login, tasks["zhao.min"], "chen.jie")
    assert (refused.status_code, error_code(refused)) == (403, "forbidden")
    claimed = client.post(f"{TASKS}/{tasks['zhao.min']}/claim", headers=login("chen.jie"))
    assert (claimed.status_code, error_code(claimed)) == (409, "conflict")  # zhao.min holds it
    # the task is still zhao.min's, and theirs to complete
    assert sign(client, login, tasks["zhao.min"], "zhao.min").status_code == 200


def test_a_signer_cannot_name_the_signer_variable(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    tasks = signers(start(client, login("xinghe"), "countersign"))
    forged = client.post(
        f"{TASKS}/{tasks['zhao.min']}/complete",
        json={"data": {"approved": True, "pf_signer": "chen.jie"}},
        headers=login("zhao.min"),
    )
    assert (forged.status_code, error_code(forged)) == (422, "invalid")
    assert forged.json["error"]["details"] == [
        {"field": "pf_signer", "message": "is a reserved name"}
    ]


def test_sequential_asks_the_listed_signers_in_turn(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = start(client, login("xinghe"), "in_turn")
    assert list(signers(view)) == ["liu.yang"]
    view = sign(client, login, signers(view)["liu.yang"], "liu.yang").json
    assert list(signers(view)) == ["zhao.min"]
    view = sign(client, login, signers(view)["zhao.min"], "zhao.min", approved=False).json
    assert elements(view) == ["tell_rejection"]


def test_a_share_passes_once_reached_and_closes_the_rest(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    view = start(client, login("xinghe"), "by_share")
    tasks = signers(view)
    view = sign(client, login, tasks["zhao.min"], "zhao.min", approved=False).json
    assert sorted(signers(view)) == ["chen.jie", "liu.yang"]  # two approvals still possible
    detail = client.get(f"{TASKS}/{tasks['chen.jie']}", headers=login("chen.jie")).json
    assert {k: detail["approval"][k] for k in ("mode", "ratio", "approved", "rejected")} == {
        "mode": "ratio",
        "ratio": 0.6,
        "approved": 0,
        "rejected": 1,
    }
    view = sign(client, login, tasks["chen.jie"], "chen.jie").json
    assert list(signers(view)) == ["liu.yang"]
    view = sign(client, login, tasks["liu.yang"], "liu.yang").json
    assert elements(view) == ["archive"]


def test_group_members_are_the_signers_at_the_moment_the_node_opens(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    with deployed.write() as session:
        accounts.create_user(
            session,
            actor="test",
            username="sun.li",
            password="x" * 12,
            park_slug="demo",
            role="reviewer",
            groups=["财务部"],
        )
    tasks = signers(start(client, login("xinghe"), "countersign"))
    assert sorted(tasks) == sorted([*DEPARTMENTS, "sun.li"])


def test_a_node_whose_groups_have_no_members_stops_with_a_clear_error(
    client: FlaskClient, login: Login, deployed: Database
) -> None:
    with deployed.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        accounts.create_group(session, actor="test", park_slug="demo", name="空部门")
        processes.deploy(
            session,
            park=park,
            actor="test",
            forms={},
            bpmn={
                "empty.bpmn": approval_process(
                    "empty_sign", "all", 'camunda:candidateGroups="空部门"'
                ).encode()
            },
        )
    response = client.post(
        "/api/v1/parks/demo/instances",
        json={"process_key": "empty_sign", "data": {}},
        headers=login("xinghe"),
    )
    assert response.status_code == 201, response.json
    view = client.get(f"/api/v1/instances/{response.json['id']}", headers=login("admin")).json
    assert view["status"] == "error"
    assert view["current_steps"] == []
    assert view["error"]["element_id"] == "sign"
    assert "nobody to sign" in view["error"]["message"]


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("most", "approval_mode_unknown"),
        ("ratio:1.2", "approval_ratio"),
        ("ratio:0", "approval_ratio"),
    ],
)
def test_deploy_refuses_a_bad_mode(
    client: FlaskClient, login: Login, parks: Database, mode: str, code: str
) -> None:
    source = approval_process("bad_mode", mode, 'camunda:candidateUsers="zhao.min"')
    response = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": source}, headers=login("admin")
    )
    assert response.status_code == 422, response.json
    (problem,) = response.json["error"]["details"]
    assert problem["element_id"] == "sign"
    assert mode in problem["message"]


def test_deploy_refuses_a_mode_with_nobody_to_sign(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    source = approval_process("no_signers", "all", "")
    response = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": source}, headers=login("admin")
    )
    assert response.status_code == 422, response.json
    (problem,) = response.json["error"]["details"]
    assert (problem["element_id"], "nobody to sign" in problem["message"]) == ("sign", True)
