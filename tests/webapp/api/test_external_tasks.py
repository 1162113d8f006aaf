"""External workers over HTTP: fetch and lock, fail and retry, complete, BPMN errors, locks."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.engine.test_external_tasks import DIAGRAM, EXTERNAL
from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start, step
from tests.webapp.fixtures import run_together
from webapp.db import Database, utcnow
from webapp.models import AuditEvent, ExternalTask, Job, StepHistory
from webapp.services import jobs
from webapp.services.accounts import get_park
from webapp.services.admin_park import retry_incident
from webapp.worker import Worker

FETCH = "/api/v1/external-tasks/fetch-and-lock"
BPMN = DIAGRAM.format(attributes=EXTERNAL).replace(
    'camunda:candidateGroups="reviewers"', 'camunda:candidateGroups="政策审核组"'
)


@pytest.fixture
def deployed(client: FlaskClient, login: Login) -> None:
    response = client.post(
        "/api/v1/parks/demo/processes",
        headers=login("admin"),
        content_type="multipart/form-data",
        data={"bpmn": [(io.BytesIO(BPMN.encode()), "ext.bpmn")]},
    )
    assert response.status_code == 201, response.json


@pytest.fixture
def worker(client: FlaskClient, login: Login) -> dict[str, str]:
    """The Authorization header of a demo park service token."""
    made = client.post(
        "/api/v1/parks/demo/service-tokens", json={"name": "tax-bridge"}, headers=login("admin")
    )
    assert made.status_code == 201, made.json
    assert made.json["token"].startswith("pfs_")
    return {"Authorization": f"Bearer {made.json['token']}"}


def apply(client: FlaskClient, login: Login, amount: int = 3) -> dict[str, Any]:
    return start(client, login("xinghe"), "ext", data={"amount": amount})


def fetch(
    client: FlaskClient,
    headers: dict[str, str],
    worker_id: str = "w1",
    *,
    max_tasks: int = 10,
    lock_seconds: int = 30,
) -> list[dict[str, Any]]:
    response = client.post(
        FETCH,
        headers=headers,
        json={
            "worker_id": worker_id,
            "max_tasks": max_tasks,
            "topics": [{"name": "tax_check", "lock_seconds": lock_seconds}],
        },
    )
    assert response.status_code == 200, response.json
    return list(response.json)


def report(
    client: FlaskClient, headers: dict[str, str], task_id: str, what: str, **body: Any
) -> Any:
    return client.post(
        f"/api/v1/external-tasks/{task_id}/{what}",
        headers=headers,
        json={"worker_id": "w1", **body},
    )


def actions(db: Database, instance_id: str) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.instance_id == instance_id, AuditEvent.action.like("external.%"))
                .order_by(AuditEvent.id)
            )
        )


def row(db: Database, task_id: str) -> ExternalTask:
    with db.read() as session:
        found = session.get_one(ExternalTask, task_id)
        session.expunge(found)
        return found


@pytest.mark.usefixtures("deployed")
def test_a_worker_fails_twice_then_succeeds_and_the_application_runs_on(
    client: FlaskClient, login: Login, worker: dict[str, str], parks: Database
) -> None:
    view = apply(client, login)
    assert view["current_steps"] == []

    (task,) = fetch(client, worker)
    assert (task["topic"], task["instance_id"], task["variables"], task["retries"]) == (
        "tax_check",
        view["id"],
        {"amount": 3},
        None,
    )
    assert fetch(client, worker, "w2") == []  # locked to w1
    failed = report(client, worker, task["id"], "failure", message="bureau down", retries=2)
    assert failed.status_code == 204, failed.json

    (again,) = fetch(client, worker)
    assert (again["id"], again["retries"]) == (task["id"], 2)
    assert (
        report(client, worker, task["id"], "failure", message="bureau down", retries=1).status_code
        == 204
    )
    (third,) = fetch(client, worker)
    assert third["retries"] == 1
    done = report(client, worker, task["id"], "complete", variables={"tax_ok": True})
    assert done.status_code == 204, done.json

    # the next step, a person's, sees what the worker reported
    after = client.get(f"/api/v1/instances/{view['id']}", headers=login("admin")).json
    check = step(after, "check")
    shown = client.get(f"/api/v1/tasks/{check}", headers=login("zhang.wei")).json
    (decision,) = shown["context"]["decisions"]
    assert (decision["element_id"], decision["completed_by"], decision["data"]) == (
        "tax", "w1", {"tax_ok": True})
    assert "tax" in [entry["element_id"] for entry in after["history"]]
    with parks.read() as session:
        (kept,) = session.scalars(
            select(StepHistory).where(
                StepHistory.instance_id == view["id"], StepHistory.element_id == "tax"
            )
        )
        assert kept.completed_by == "w1"
    assert row(parks, task["id"]).status == "completed"
    assert actions(parks, view["id"]) == [
        "external.locked",
        "external.failed",
        "external.locked",
        "external.failed",
        "external.locked",
        "external.completed",
    ]
    assert fetch(client, worker) == []
    assert report(client, worker, task["id"], "complete").status_code == 409


@pytest.mark.usefixtures("deployed")
def test_an_expired_lock_is_offered_again_and_the_first_worker_is_refused(
    client: FlaskClient, login: Login, worker: dict[str, str]
) -> None:
    view = apply(client, login)
    with time_machine.travel(utcnow(), tick=False) as clock:
        (task,) = fetch(client, worker, "w1", lock_seconds=10)
        clock.shift(timedelta(seconds=9))
        assert fetch(client, worker, "w2") == []
        extended = report(client, worker, task["id"], "extend-lock", seconds=10)
        assert extended.status_code == 204, extended.json
        clock.shift(timedelta(seconds=9))
        assert fetch(client, worker, "w2") == []
        clock.shift(timedelta(seconds=2))
        (taken,) = fetch(client, worker, "w2")
        assert taken["id"] == task["id"]
        late = report(client, worker, task["id"], "complete", variables={"tax_ok": False})
        assert late.status_code == 409
        assert error_code(late) == "conflict"
        done = client.post(
            f"/api/v1/external-tasks/{task['id']}/complete",
            headers=worker,
            json={"worker_id": "w2", "variables": {"tax_ok": True}},
        )
        assert done.status_code == 204, done.json
    after = client.get(f"/api/v1/instances/{view['id']}", headers=login("admin")).json
    assert [s["element_id"] for s in after["current_steps"]] == ["check"]


@pytest.mark.usefixtures("deployed")
def test_a_failure_waits_its_retry_time(
    client: FlaskClient, login: Login, worker: dict[str, str]
) -> None:
    apply(client, login)
    with time_machine.travel(utcnow(), tick=False) as clock:
        (task,) = fetch(client, worker)
        report(client, worker, task["id"], "failure", message="later", retries=3, retry_seconds=60)
        clock.shift(timedelta(seconds=59))
        assert fetch(client, worker) == []
        clock.shift(timedelta(seconds=2))
        assert [t["id"] for t in fetch(client, worker)] == [task["id"]]


@pytest.mark.usefixtures("deployed")
def test_no_retries_left_is_an_incident_an_admin_retries(
    client: FlaskClient, login: Login, worker: dict[str, str], parks: Database
) -> None:
    view = apply(client, login)
    (task,) = fetch(client, worker)
    report(client, worker, task["id"], "failure", message="certificate expired", retries=0)
    assert fetch(client, worker) == []
    assert row(parks, task["id"]).status == "failed"
    with parks.write() as session:
        park = get_park(session, "demo")
        (incident,) = [
            i for i in jobs.incidents(session, park_id=park.id) if i.task_id == task["id"]
        ]
        assert incident.kind == "external_task"
        assert "certificate expired" in incident.reason
        retry_incident(session, park, actor="admin", job_id=incident.id)
    assert Worker(parks).run_once() >= 1
    (again,) = fetch(client, worker)
    assert (again["id"], again["retries"]) == (task["id"], 1)
    assert report(client, worker, task["id"], "complete").status_code == 204
    assert "external.failed" in actions(parks, view["id"])


@pytest.mark.usefixtures("deployed")
def test_the_incident_shows_on_the_admin_page(
    client: FlaskClient, login: Login, worker: dict[str, str], app: Flask
) -> None:
    from tests.webapp.apptools import Browser, text_of

    apply(client, login)
    (task,) = fetch(client, worker)
    report(client, worker, task["id"], "failure", message="certificate expired", retries=0)
    page = Browser(app.test_client()).login("admin").get("/admin/incidents")
    assert page.status_code == 200
    assert "certificate expired" in text_of(page)


@pytest.mark.usefixtures("deployed")
def test_the_tracker_shows_the_application_waiting_at_the_outside_system(
    client: FlaskClient, login: Login, app: Flask
) -> None:
    from tests.webapp.apptools import Browser, text_of

    view = apply(client, login)
    page = Browser(app.test_client()).login("xinghe").get(f"/applications/{view['id']}")
    shown = text_of(page)
    assert page.status_code == 200
    current = shown[shown.index('class="current-steps"'):]
    assert "Ask the tax bureau" in current[:400] and "外部系统" in current[:400]
    # the diagram marks the external task as where the application stands
    marks = re.search(r"data-marks='([^']*)'", shown)
    assert marks is not None and json.loads(html.unescape(marks[1]))["current"] == ["tax"]


@pytest.mark.usefixtures("deployed")
def test_a_bpmn_error_is_caught_by_the_boundary_event(
    client: FlaskClient, login: Login, worker: dict[str, str], parks: Database
) -> None:
    view = apply(client, login)
    (task,) = fetch(client, worker)
    thrown = report(
        client,
        worker,
        task["id"],
        "bpmn-error",
        code="TAX_REFUSED",
        message="arrears",
        variables={"arrears": 1200},
    )
    assert thrown.status_code == 200, thrown.json
    assert thrown.json == {"caught": True}
    after = client.get(f"/api/v1/instances/{view['id']}", headers=login("admin")).json
    fix = step(after, "fix")
    assert client.get(f"/api/v1/tasks/{fix}", headers=login("zhang.wei")).status_code == 200
    assert row(parks, task["id"]).status == "bpmn_error"
    assert actions(parks, view["id"])[-1] == "external.bpmn_error"


@pytest.mark.usefixtures("deployed")
def test_an_uncaught_bpmn_error_is_an_incident(
    client: FlaskClient, login: Login, worker: dict[str, str], parks: Database
) -> None:
    view = apply(client, login)
    (task,) = fetch(client, worker)
    thrown = report(client, worker, task["id"], "bpmn-error", code="NOBODY_CATCHES")
    assert thrown.json == {"caught": False}
    assert row(parks, task["id"]).status == "failed"
    with parks.read() as session:
        (incident,) = session.scalars(select(Job).where(Job.task_id == task["id"]))
        assert incident.status == "failed" and "NOBODY_CATCHES" in (incident.last_error or "")
    after = client.get(f"/api/v1/instances/{view['id']}", headers=login("admin")).json
    assert after["status"] == "active"


@pytest.mark.usefixtures("deployed")
def test_two_workers_never_get_the_same_task(
    app: Flask, client: FlaskClient, login: Login, worker: dict[str, str]
) -> None:
    for amount in range(8):
        apply(client, login, amount)

    def take(index: int) -> list[str]:
        own = app.test_client()
        return [t["id"] for t in fetch(own, worker, f"w{index}", max_tasks=3)]

    results = run_together(3, take)
    taken = [task_id for found in results for task_id in found]  # type: ignore[union-attr]
    assert len(taken) == 8 and len(set(taken)) == 8, results


@pytest.mark.usefixtures("deployed")
def test_a_park_admin_works_tasks_of_their_own_park_only(
    client: FlaskClient, login: Login, worker: dict[str, str]
) -> None:
    apply(client, login)
    assert fetch(client, login("other.admin")) == []
    (task,) = fetch(client, login("admin"))
    foreign = client.post(
        f"/api/v1/external-tasks/{task['id']}/complete",
        headers=login("other.admin"),
        json={"worker_id": "w1"},
    )
    assert foreign.status_code == 404
    reviewer = client.post(
        FETCH,
        headers=login("zhang.wei"),
        json={
            "worker_id": "w1",
            "max_tasks": 1,
            "topics": [{"name": "tax_check", "lock_seconds": 5}],
        },
    )
    assert reviewer.status_code == 403
    # the service token works the task an admin locked, under the same worker id
    assert report(client, worker, task["id"], "complete").status_code == 204


@pytest.mark.usefixtures("deployed")
def test_a_service_token_opens_external_work_of_its_park_only(
    client: FlaskClient, login: Login, worker: dict[str, str]
) -> None:
    apply(client, login)
    other = client.post(
        "/api/v1/parks/other/service-tokens", json={"name": "x"}, headers=login("other.admin")
    )
    other_worker = {"Authorization": f"Bearer {other.json['token']}"}
    assert fetch(client, other_worker) == []
    assert client.get("/api/v1/tasks", headers=worker).status_code == 401
    assert (
        client.post(
            "/api/v1/parks/demo/service-tokens", json={"name": "y"}, headers=worker
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/parks/demo/service-tokens", json={"name": "y"}, headers=login("zhang.wei")
        ).status_code
        == 403
    )
    revoked = client.delete(
        f"/api/v1/parks/other/service-tokens/{other.json['id']}", headers=login("other.admin")
    )
    assert revoked.status_code == 204
    refused = client.post(
        FETCH,
        headers=other_worker,
        json={
            "worker_id": "w1",
            "max_tasks": 1,
            "topics": [{"name": "tax_check", "lock_seconds": 5}],
        },
    )
    assert refused.status_code == 401
    assert (
        client.delete(
            f"/api/v1/parks/other/service-tokens/{other.json['id']}", headers=login("other.admin")
        ).status_code
        == 404
    )


@pytest.mark.usefixtures("deployed")
def test_unknown_tasks_foreign_locks_and_bad_bodies(
    client: FlaskClient, login: Login, worker: dict[str, str]
) -> None:
    apply(client, login)
    for what, body in (
        ("complete", {}),
        ("failure", {"message": "m", "retries": 1}),
        ("bpmn-error", {"code": "X"}),
        ("extend-lock", {"seconds": 5}),
    ):
        unknown = report(client, worker, "no-such-task", what, **body)
        assert unknown.status_code == 404, (what, unknown.json)
        assert error_code(unknown) == "not_found"
    (task,) = fetch(client, worker)
    for what, body in (
        ("complete", {}),
        ("failure", {"message": "m", "retries": 1}),
        ("bpmn-error", {"code": "X"}),
        ("extend-lock", {"seconds": 5}),
    ):
        foreign = client.post(
            f"/api/v1/external-tasks/{task['id']}/{what}",
            headers=worker,
            json={"worker_id": "w9", **body},
        )
        assert foreign.status_code == 409, (what, foreign.json)
    for path, body in (
        (FETCH, {"max_tasks": 1, "topics": [{"name": "t", "lock_seconds": 5}]}),
        (FETCH, {"worker_id": "w1", "max_tasks": 0, "topics": [{"name": "t", "lock_seconds": 5}]}),
        (FETCH, {"worker_id": "w1", "max_tasks": 1, "topics": [{"name": "t", "lock_seconds": 0}]}),
        (FETCH, {"worker_id": "w1", "max_tasks": 1, "topics": []}),
        (
            FETCH,
            {"worker_id": "w1", "max_tasks": "1", "topics": [{"name": "t", "lock_seconds": 5}]},
        ),
        (f"/api/v1/external-tasks/{task['id']}/complete", {"worker_id": "w1", "variables": [1]}),
        (
            f"/api/v1/external-tasks/{task['id']}/complete",
            {"worker_id": "w1", "variables": {"pf_secret": 1}},
        ),
        (f"/api/v1/external-tasks/{task['id']}/failure", {"worker_id": "w1", "retries": 1}),
        (
            f"/api/v1/external-tasks/{task['id']}/failure",
            {"worker_id": "w1", "message": "m", "retries": -1},
        ),
        (f"/api/v1/external-tasks/{task['id']}/bpmn-error", {"worker_id": "w1"}),
        (f"/api/v1/external-tasks/{task['id']}/extend-lock", {"worker_id": "w1", "seconds": 0}),
    ):
        bad = client.post(path, headers=worker, json=body)
        assert bad.status_code == 422, (path, body, bad.json)
    # none of the refusals touched the lock
    assert report(client, worker, task["id"], "complete").status_code == 204
