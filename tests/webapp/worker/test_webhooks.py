"""Outbound webhooks: queued with the event, signed, delivered by the worker, retried, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, select

from tests.webapp.fixtures import (
    REASONS,
    complete,
    day_end,
    load_instance,
    local,
    open_tasks,
    start,
)
from tests.webapp.worker.stub_http import Received, Stub, stub_server
from tests.webapp.worker.test_deadlines import at
from webapp.db import Database
from webapp.models import WEBHOOK_EVENTS, AuditEvent, Park, WebhookDelivery, WebhookSubscription
from webapp.services import processes, webhooks
from webapp.services.accounts import get_park
from webapp.services.errors import Invalid, NotFound
from webapp.worker import Worker

ALL = list(WEBHOOK_EVENTS)
SHORT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="short" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:userTask id="check" name="审核" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_server() as server:
        yield server


def subscribe(db: Database, url: str, events: list[str]) -> WebhookSubscription:
    with db.write() as session:
        found = webhooks.subscribe(
            session,
            get_park(session, "demo"),
            actor="admin",
            url=url,
            events=events,
            now=datetime.now(UTC),
        )
        session.expunge(found)
        return found


def verify(secret: str, received: Received) -> dict[str, object]:
    """What README tells a receiver to do: recompute the signature over timestamp.body."""
    timestamp = received.headers["X-Parkflow-Timestamp"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(received.headers["X-Parkflow-Signature"], f"sha256={expected}")
    body = json.loads(received.body)
    assert received.headers["X-Parkflow-Event"] == body["event"]
    assert received.headers["X-Parkflow-Delivery"] == body["id"]
    return dict(body)


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read() as session:
        rows = list(
            session.scalars(
                select(WebhookDelivery).order_by(WebhookDelivery.created_at, WebhookDelivery.event)
            )
        )
        session.expunge_all()
        return rows


def deploy_short(db: Database) -> None:
    with db.write() as session:
        processes.deploy(
            session,
            park=get_park(session, "demo"),
            actor="test",
            bpmn={"short.bpmn": SHORT.encode()},
        )


def test_started_step_completed_and_finished_are_signed_and_delivered(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy_short(demo_db)
    sub = subscribe(
        demo_db,
        f"{stub.base}/hook",
        ["application.started", "step.completed", "application.finished"],
    )
    instance_id = start(demo_db, "short", data={})
    # queued in the transaction that started the application, not yet sent
    assert [(d.event, d.status) for d in deliveries(demo_db)] == [
        ("application.started", "pending")
    ]
    assert stub.received == []

    worker = Worker(demo_db, worker_id="w")
    worker.run_until_idle()
    (first,) = stub.received
    body = verify(sub.secret, first)
    reference = load_instance(demo_db, instance_id).reference
    assert body["event"] == "application.started"
    assert body["application"] == {
        "id": instance_id,
        "reference": reference,
        "process_key": "short",
        "status": "active",
    }
    assert body["park"] == "demo"

    complete(demo_db, instance_id, "check", {}, "zhang.wei")
    worker.run_until_idle()
    bodies = [verify(sub.secret, received) for received in stub.received[1:]]
    assert sorted(str(b["event"]) for b in bodies) == ["application.finished", "step.completed"]
    step = next(b for b in bodies if b["event"] == "step.completed")
    assert step["data"]["element_id"] == "check"  # type: ignore[index]
    assert step["data"]["completed_by"] == "zhang.wei"  # type: ignore[index]
    assert all(
        d.status == "delivered" and d.attempts == 1 and d.last_status_code == 200
        for d in deliveries(demo_db)
    )


def test_a_return_and_an_overdue_task_are_delivered(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    sub = subscribe(demo_db, f"{stub.base}/hook", ["application.returned", "task.overdue"])
    worker = Worker(demo_db, worker_id="w")
    instance_id = start(demo_db)
    clock.move_to(local(3, 10))
    complete(
        demo_db,
        instance_id,
        "preliminary_review",
        {"outcome": "return", "return_reasons": REASONS},
        "zhang.wei",
    )
    worker.run_until_idle()
    (returned,) = [verify(sub.secret, r) for r in stub.received]
    assert returned["event"] == "application.returned"
    assert returned["data"]["reasons"] == REASONS  # type: ignore[index]

    correction = open_tasks(demo_db, instance_id)["correction"]
    at(day_end(10), worker, clock)  # the correction's due time passes
    at(day_end(11), worker, clock)  # and the next working day: the event is sent once
    overdue = [verify(sub.secret, r) for r in stub.received[1:]]
    assert [b["event"] for b in overdue] == ["task.overdue"]
    assert overdue[0]["data"]["task_id"] == correction.id  # type: ignore[index]


def test_a_failing_receiver_is_retried_with_backoff_then_failed_and_redelivered(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy_short(demo_db)
    sub = subscribe(demo_db, f"{stub.base}/hook", ["application.started"])
    stub.plan = [(500, 0.0), (503, 0.0)]
    start(demo_db, "short", data={})
    worker = Worker(demo_db, worker_id="w")
    worker.run_until_idle()
    (delivery,) = deliveries(demo_db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    clock.shift(timedelta(seconds=11))
    worker.run_until_idle()
    (delivery,) = deliveries(demo_db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 2, 503)
    clock.shift(timedelta(seconds=21))  # the second wait doubled
    worker.run_until_idle()
    (delivery,) = deliveries(demo_db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    # every attempt is the same delivery, each freshly signed
    assert {r.headers["X-Parkflow-Delivery"] for r in stub.received} == {delivery.id}
    for received in stub.received:
        verify(sub.secret, received)

    # a receiver that never answers well: after the last attempt the delivery is failed
    stub.plan = [(500, 0.0)] * webhooks.MAX_ATTEMPTS
    with demo_db.write() as session:
        webhooks.redeliver(
            session, get_park(session, "demo"), delivery.id, actor="admin", now=datetime.now(UTC)
        )
    for _ in range(webhooks.MAX_ATTEMPTS):
        worker.run_until_idle()
        clock.shift(timedelta(hours=1, seconds=1))
    (delivery,) = deliveries(demo_db)
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    with demo_db.write() as session:
        webhooks.redeliver(
            session, get_park(session, "demo"), delivery.id, actor="admin", now=datetime.now(UTC)
        )
    worker.run_until_idle()
    (delivery,) = deliveries(demo_db)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    with demo_db.read() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("webhook.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["webhook.subscribed", "webhook.redelivered", "webhook.redelivered"]


def test_a_disabled_subscription_gets_nothing_and_the_park_forgets_its_events(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy_short(demo_db)
    sub = subscribe(demo_db, f"{stub.base}/hook", ["application.started"])
    start(demo_db, "short", data={})  # queued while enabled
    with demo_db.write() as session:
        park = get_park(session, "demo")
        assert webhooks.wanted(park) == {"application.started"}
        webhooks.change(session, park, sub.id, actor="admin", enabled=False, now=datetime.now(UTC))
        assert webhooks.wanted(park) == frozenset()
    start(demo_db, "short", data={})
    Worker(demo_db, worker_id="w").run_until_idle()
    assert stub.received == []
    assert [d.status for d in deliveries(demo_db)] == ["skipped"]


def test_completing_a_task_in_a_park_without_subscriptions_reads_no_subscription(
    demo_db: Database, clock: time_machine.Traveller
) -> None:
    deploy_short(demo_db)
    instance_id = start(demo_db, "short", data={})
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(demo_db.engine, "before_cursor_execute", seen)
    try:
        complete(demo_db, instance_id, "check", {}, "zhang.wei")
    finally:
        event.remove(demo_db.engine, "before_cursor_execute", seen)
    assert statements  # the listener saw the completion
    assert not any("webhook" in statement for statement in statements)
    assert deliveries(demo_db) == []


def test_subscriptions_refuse_bad_input_and_other_parks(demo_db: Database) -> None:
    now = datetime.now(UTC)
    with demo_db.write() as session:
        park = get_park(session, "demo")
        with pytest.raises(Invalid):
            webhooks.subscribe(session, park, actor="a", url="ftp://x", events=ALL, now=now)
        with pytest.raises(Invalid):
            webhooks.subscribe(
                session, park, actor="a", url="https://x.example", events=[], now=now
            )
        with pytest.raises(Invalid):
            webhooks.subscribe(
                session,
                park,
                actor="a",
                url="https://x.example",
                events=["application.exploded"],
                now=now,
            )
        with pytest.raises(NotFound):
            webhooks.change(session, park, "nope", actor="a", enabled=False, now=now)
        with pytest.raises(NotFound):
            webhooks.redeliver(session, park, "x" * 40, actor="a", now=now)
        made = webhooks.subscribe(
            session, park, actor="a", url="https://x.example/h", events=["task.overdue"], now=now
        )
        assert made.secret.startswith("whsec_")
        assert session.scalars(select(Park.settings).where(Park.id == park.id)).one()[
            "webhook_events"
        ] == ["task.overdue"]
