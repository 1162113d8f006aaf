"""Automatic task rules: emptyAssignee, selfApproval and timeoutAction, run by the worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import complete_step, start, step
from tests.webapp.apptools import bearer
from webapp.db import Database
from webapp.services import accounts
from webapp.worker import Worker

ENTERPRISE = "星河科技有限公司"


@pytest.fixture
def deployed(client: FlaskClient, login: Login, parks: Database) -> None:
    with parks.write() as session:
        accounts.create_group(session, actor="test", park_slug="demo", name="空岗位")
    body = {"bpmn_xml": (DATA / "task_rules.bpmn").read_text()}
    answer = client.post("/api/v1/parks/demo/processes", json=body, headers=login("admin"))
    assert answer.status_code == 201, answer.json


def run_worker(db: Database) -> None:
    Worker(db, worker_id="test-worker").run_until_idle()


def view_of(client: FlaskClient, login: Login, view: dict[str, Any]) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/instances/{view['id']}", headers=login("admin")).json)


def actions(client: FlaskClient, login: Login, view: dict[str, Any]) -> list[dict[str, Any]]:
    audit = client.get(f"/api/v1/instances/{view['id']}/audit", headers=login("admin")).json
    return [
        e
        for e in audit
        if e["action"].startswith("task.") and e["action"] not in ("task.completed", "task.claimed")
    ]


def open_steps(view: dict[str, Any]) -> list[str]:
    return [s["element_id"] for s in view["current_steps"]]


def apply(
    client: FlaskClient, login: Login, db: Database, key: str, who: str = "xinghe"
) -> dict[str, Any]:
    kwargs = {"enterprise": ENTERPRISE} if who == "admin" else {}
    view = start(client, login(who), key, **kwargs)
    run_worker(db)
    return view_of(client, login, view)


def test_empty_goes_to_the_admins(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "empty_admins")
    [current] = view["current_steps"]
    assert (current["candidate_groups"], current["assignee"]) == ([], None)
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["reason"]) == ("task.to_admins", "empty")
    inbox = [t["task_id"] for t in client.get("/api/v1/tasks", headers=login("admin")).json]
    assert current["task_id"] in inbox
    notes = client.get("/api/v1/notifications", headers=login("admin")).json
    assert any(n["task_id"] == current["task_id"] for n in notes)


def test_empty_skip_completes_the_task_with_its_reason(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "empty_skip")
    assert open_steps(view) == ["empty_skip_next"]
    assert view["history"][-1]["outcome"] == "skipped"
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["reason"]) == ("task.skipped", "empty")


def test_empty_reject_completes_it_as_a_rejection(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "empty_reject")
    assert view["status"] == "completed" and view["result"] == "rejected"
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["reason"]) == ("task.auto_rejected", "empty")


def test_without_a_rule_nothing_happens(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "empty_default")
    assert open_steps(view) == ["empty_default_task"]
    assert actions(client, login, view) == []


def test_self_approval_skip(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "self_skip", who="admin")
    assert open_steps(view) == ["self_skip_next"]
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["reason"]) == ("task.skipped", "self")


def test_self_approval_to_admins(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "self_admins", who="admin")
    [current] = view["current_steps"]
    assert current["assignee"] is None
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["reason"]) == ("task.to_admins", "self")


def test_self_approval_allowed_and_someone_can_take_it(
    client: FlaskClient, login: Login, parks: Database, deployed: None
) -> None:
    view = apply(client, login, parks, "self_allow", who="admin")
    assert open_steps(view) == ["self_allow_task"]
    assert actions(client, login, view) == []


def past_due(clock: Any, view: dict[str, Any], days: int = 0) -> None:
    due = view["current_steps"][0]["due_at"]
    clock.move_to(datetime.fromisoformat(due) + timedelta(days=days, minutes=1))


def test_timeout_reminds_twice_once_a_working_day(
    client: FlaskClient,
    login: Login,
    parks: Database,
    deployed: None,
    clock: time_machine.Traveller,
) -> None:
    view = apply(client, login, parks, "late_remind")
    run_worker(parks)
    assert actions(client, login, view) == []
    past_due(clock, view)
    run_worker(parks)
    run_worker(parks)
    assert [e["details"]["count"] for e in actions(client, login, view)] == [1]
    past_due(clock, view, days=7)
    run_worker(parks)
    past_due(clock, view, days=14)
    run_worker(parks)
    assert [(e["action"], e["details"]["count"]) for e in actions(client, login, view)] == [
        ("task.reminded", 1),
        ("task.reminded", 2),
    ]
    notes = client.get("/api/v1/notifications", headers=login("zhang.wei")).json
    assert sum(n["kind"] == "reminded" for n in notes) == 2


def test_timeout_transfers_to_a_group(
    client: FlaskClient,
    login: Login,
    parks: Database,
    deployed: None,
    clock: time_machine.Traveller,
) -> None:
    view = apply(client, login, parks, "late_transfer")
    past_due(clock, view)
    run_worker(parks)
    view = view_of(client, login, view)
    assert view["current_steps"][0]["candidate_groups"] == ["部门负责人"]
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["group"]) == (
        "task.timeout_transferred",
        "部门负责人",
    )
    complete_step(client, login, view, "late_transfer_task", {"approved": True}, who="li.na")


def test_timeout_approves(
    client: FlaskClient,
    login: Login,
    parks: Database,
    deployed: None,
    clock: time_machine.Traveller,
) -> None:
    view = apply(client, login, parks, "late_approve")
    past_due(clock, view)
    run_worker(parks)
    view = view_of(client, login, view)
    assert open_steps(view) == ["late_approve_next"]
    assert view["history"][-1]["outcome"] == "approved"
    assert [e["action"] for e in actions(client, login, view)] == ["task.auto_approved"]


def test_timeout_returns_to_the_step_before(
    client: FlaskClient,
    login: Login,
    parks: Database,
    deployed: None,
    clock: time_machine.Traveller,
) -> None:
    view = apply(client, login, parks, "late_return")
    view = complete_step(client, login, view, "late_return_first", {"ok": 1})
    past_due(clock, view)
    run_worker(parks)
    view = view_of(client, login, view)
    assert [(s["element_id"], s["assignee"]) for s in view["current_steps"]] == [
        ("late_return_first", None)
    ]
    [event] = actions(client, login, view)
    assert (event["action"], event["details"]["to"]) == ("task.auto_returned", "late_return_first")
    # the re-entered step has a time limit again, and its return is explained
    task = client.get(
        f"/api/v1/tasks/{step(view, 'late_return_first')}", headers=bearer(client, "zhang.wei")
    ).json
    assert task["context"]["returned"]["reasons"] == ["办理期限已到，自动退回"]


def test_a_task_done_in_time_is_left_alone(
    client: FlaskClient,
    login: Login,
    parks: Database,
    deployed: None,
    clock: time_machine.Traveller,
) -> None:
    view = apply(client, login, parks, "late_approve")
    view = complete_step(client, login, view, "late_approve_task", {"approved": False}, who="li.na")
    clock.move_to(datetime.fromisoformat(view["history"][-1]["completed_at"]) + timedelta(days=10))
    run_worker(parks)
    assert actions(client, login, view) == []


@pytest.mark.parametrize(
    ("prop", "value", "code"),
    [
        ("emptyAssignee", "nobody", "task_rule_invalid"),
        ("selfApproval", "sometimes", "task_rule_invalid"),
        ("timeoutAction", "remind:x", "task_rule_invalid"),
        ("timeoutAction", "explode", "task_rule_invalid"),
    ],
)
def test_bad_rules_are_refused_at_deploy(
    client: FlaskClient, login: Login, parks: Database, prop: str, value: str, code: str
) -> None:
    xml = (
        (DATA / "task_rules.bpmn")
        .read_text()
        .replace(
            '<camunda:property name="emptyAssignee" value="skip"/>',
            f'<camunda:property name="{prop}" value="{value}"/>',
        )
    )
    answer = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": xml}, headers=login("admin")
    )
    assert answer.status_code == 422, answer.json
    assert any(
        value in p["message"] and p["element_id"] == "empty_skip_task"
        for p in answer.json["error"]["details"]
    ), answer.json


def test_a_timeout_needs_a_due_date(client: FlaskClient, login: Login, parks: Database) -> None:
    xml = (
        (DATA / "task_rules.bpmn")
        .read_text()
        .replace(
            'camunda:candidateGroups="部门负责人" camunda:dueDate="1WD"><bpmn:extensionElements>'
            '<camunda:properties><camunda:property name="timeoutAction" value="approve"/>',
            'camunda:candidateGroups="部门负责人"><bpmn:extensionElements>'
            '<camunda:properties><camunda:property name="timeoutAction" value="approve"/>',
        )
    )
    answer = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": xml}, headers=login("admin")
    )
    assert answer.status_code == 422, answer.json
    assert any("dueDate" in p["message"] for p in answer.json["error"]["details"])
