"""The approval idioms on one application: a three-department 会签 where one signer hands
the task on (转办), another asks a colleague to sign first (加签), a leader is copied (抄送)
and the applicant urges (催办). Each piece has its own tests; this one checks that they hold
together: what the step after the node sees, and what the audit trail and the copy show."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import start
from tests.webapp.api.test_approval_modes import (  # noqa: F401 (the fixture)
    TASKS,
    audit_of,
    deployed,
    elements,
    sign,
    signers,
)
from webapp.db import Database


def test_a_countersign_with_a_transfer_an_added_signer_a_copy_and_an_urge(
    client: FlaskClient,
    login: Login,
    deployed: Database,  # noqa: F811
) -> None:
    view = start(client, login("xinghe"), "countersign")
    tasks = signers(view)

    # 转办: 赵敏 hands her signature to 王强, who now holds it
    moved = client.post(
        f"{TASKS}/{tasks['zhao.min']}/transfer",
        json={"username": "wang.qiang", "comment": "请王总代为会签"},
        headers=login("zhao.min"),
    )
    assert moved.status_code == 200, moved.json
    assert (
        client.post(
            f"{TASKS}/{tasks['zhao.min']}/complete",
            json={"data": {"approved": True}},
            headers=login("zhao.min"),
        ).status_code
        == 403
    )
    # 加签 before: 陈杰 asks 李娜 to sign first; he cannot complete until she has
    added = client.post(
        f"{TASKS}/{tasks['chen.jie']}/add-signers",
        json={"usernames": ["li.na"], "position": "before"},
        headers=login("chen.jie"),
    )
    assert added.status_code == 200, added.json
    assert sign(client, login, tasks["chen.jie"], "chen.jie").status_code == 409
    extra = [
        t
        for t in client.get(f"{TASKS}?scope=mine", headers=login("li.na")).json
        if t["instance_id"] == view["id"]
    ]
    assert len(extra) == 1
    assert sign(client, login, extra[0]["task_id"], "li.na").status_code == 200

    # 抄送 to the park's leader, and 催办 by the applicant
    assert (
        client.post(
            f"/api/v1/instances/{view['id']}/cc",
            json={"usernames": ["wang.qiang"]},
            headers=login("liu.yang"),
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/instances/{view['id']}/urge",
            json={"comment": "请尽快"},
            headers=login("xinghe"),
        ).status_code
        == 200
    )

    for task_id, who in ((tasks["zhao.min"], "wang.qiang"), (tasks["chen.jie"], "chen.jie")):
        answer = sign(client, login, task_id, who)
        assert answer.status_code == 200, answer.json
    last = sign(client, login, tasks["liu.yang"], "liu.yang")
    assert last.status_code == 200, last.json
    assert elements(last.json) == ["archive"]  # all three signatures approved

    archive = last.json["current_steps"][0]["task_id"]
    context = client.get(f"{TASKS}/{archive}", headers=login("zhang.wei")).json["context"]
    signed = sorted(
        (d["completed_by"], d["data"].get("approved"))
        for d in context["decisions"]
        if d["element_id"] == "sign"
    )
    # the added signature is among the decisions the next step reads, beside the three
    assert signed == [("chen.jie", True), ("li.na", True), ("liu.yang", True), ("wang.qiang", True)]
    actions = [e["action"] for e in audit_of(client, login, view["id"])]
    for expected in ("task.transferred", "task.signers_added", "instance.cc", "instance.urged"):
        assert expected in actions
    # the copied leader reads the application and its audit trail
    assert (
        client.get(f"/api/v1/instances/{view['id']}", headers=login("wang.qiang")).status_code
        == 200
    )
