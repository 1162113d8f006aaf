"""A message one application throws continues the application of the park waiting for it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tests.webapp.fixtures import audit_events, complete, history, open_tasks, start, waits
from webapp.db import Database
from webapp.models import Instance, Job, Park, ProcessDefinition
from webapp.services import processes
from webapp.worker import Worker

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:message id="m_request" name="disbursement_request"/>
  <bpmn:correlationProperty id="application_no" name="application number">
    <bpmn:correlationPropertyRetrievalExpression messageRef="m_request">
      <bpmn:messagePath>application_no</bpmn:messagePath>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
"""
SENDER = (
    HEAD
    + """
  <bpmn:process id="subsidy_closing" name="Close a subsidy" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="request"/>
    <bpmn:sendTask id="request" name="Request disbursement" messageRef="m_request">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f2" sourceRef="request" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)
RECEIVER = (
    HEAD
    + """
  <bpmn:process id="disbursement" name="Disburse" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_request"/>
    <bpmn:intermediateCatchEvent id="wait_request" name="Disbursement requested">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_request"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_request" targetRef="pay"/>
    <bpmn:userTask id="pay" name="Pay" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)


def deploy_both(db: Database) -> None:
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session,
            park=park,
            actor="admin",
            bpmn={"closing.bpmn": SENDER.encode(), "disbursement.bpmn": RECEIVER.encode()},
        )


def message_jobs(db: Database, instance_id: str) -> list[tuple[str, str]]:
    with db.read() as session:
        return [
            (job.payload["name"], job.status)
            for job in session.scalars(
                select(Job).where(Job.instance_id == instance_id, Job.kind == "message")
            )
        ]


def actions(db: Database, instance_id: str) -> list[str]:
    return [event.action for event in audit_events(db, instance_id)]


def test_a_send_task_continues_the_application_waiting_with_its_correlation(
    demo_db: Database, worker: Worker
) -> None:
    deploy_both(demo_db)
    waiting = start(demo_db, "disbursement", {"application_no": "ZC-1"})
    other = start(demo_db, "disbursement", {"application_no": "ZC-2"})
    assert [name for name, _ in waits(demo_db, waiting)] == ["disbursement_request"]

    sender = start(demo_db, "subsidy_closing", {"application_no": "ZC-1", "amount": 50})
    # queued with the step that threw it, delivered by the worker
    assert message_jobs(demo_db, sender) == [("disbursement_request", "pending")]
    assert "pay" not in open_tasks(demo_db, waiting)
    worker.run_until_idle()

    assert message_jobs(demo_db, sender) == [("disbursement_request", "done")]
    assert list(open_tasks(demo_db, waiting)) == ["pay"]
    assert waits(demo_db, waiting) == []
    assert "wait_request" in [step.element_id for step in history(demo_db, waiting)]
    (delivered,) = [e for e in audit_events(demo_db, waiting) if e.action == "message.delivered"]
    with demo_db.read() as session:
        reference = session.get_one(Instance, sender).reference
    assert delivered.details == {
        "message": "disbursement_request",
        "from": reference,
        "steps": ["wait_request"],
    }
    (sent,) = [e for e in audit_events(demo_db, sender) if e.action == "message.sent"]
    waiting_reference = [
        e for e in audit_events(demo_db, waiting) if e.action == "application.started"
    ][0].details["reference"]
    assert sent.details == {
        "message": "disbursement_request",
        "to": waiting_reference,
        "started": False,
    }
    # the other application waits for its own number still
    assert [name for name, _ in waits(demo_db, other)] == ["disbursement_request"]
    assert "pay" not in open_tasks(demo_db, other)


def test_a_message_nobody_waits_for_is_recorded_not_failed(
    demo_db: Database, worker: Worker, jobs_of: Callable[..., list[Job]]
) -> None:
    deploy_both(demo_db)
    waiting = start(demo_db, "disbursement", {"application_no": "ZC-1"})
    sender = start(demo_db, "subsidy_closing", {"application_no": "ZC-404"})
    worker.run_until_idle()
    assert message_jobs(demo_db, sender) == [("disbursement_request", "done")]
    assert "message.unclaimed" in actions(demo_db, sender)
    assert "pay" not in open_tasks(demo_db, waiting)
    assert [name for name, _ in waits(demo_db, waiting)] == ["disbursement_request"]


STARTED_BY_MESSAGE = (
    HEAD
    + """
  <bpmn:process id="disbursement_on_request" name="Disburse on request" isExecutable="true">
    <bpmn:startEvent id="requested">
      <bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_request"/>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="requested" targetRef="pay"/>
    <bpmn:userTask id="pay" name="Pay" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)


def test_a_message_no_application_waits_for_starts_the_procedure_it_starts(
    demo_db: Database, worker: Worker
) -> None:
    with demo_db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session,
            park=park,
            actor="admin",
            bpmn={"closing.bpmn": SENDER.encode(), "on_request.bpmn": STARTED_BY_MESSAGE.encode()},
        )
    sender = start(demo_db, "subsidy_closing", {"application_no": "ZC-5", "amount": 70})
    worker.run_until_idle()
    with demo_db.read() as session:
        thrower = session.get_one(Instance, sender)
        started = session.scalars(
            select(Instance)
            .join(Instance.definition)
            .where(ProcessDefinition.key == "disbursement_on_request")
        ).all()
        assert len(started) == 1
        (instance,) = started
        # for the thrower's enterprise, on its own audit trail
        assert instance.enterprise_id == thrower.enterprise_id
        assert instance.status == "active"
        reference, started_id = thrower.reference, instance.id
    assert list(open_tasks(demo_db, started_id)) == ["pay"]
    assert "requested" in [step.element_id for step in history(demo_db, started_id)]
    (event,) = [e for e in audit_events(demo_db, started_id) if e.action == "application.started"]
    assert event.details["message"] == "disbursement_request"
    assert event.details["from"] == reference
    assert "message.unclaimed" not in actions(demo_db, sender)
    (sent,) = [e for e in audit_events(demo_db, sender) if e.action == "message.sent"]
    assert sent.details["started"] is True
    assert message_jobs(demo_db, sender) == [("disbursement_request", "done")]


ONE_APPLICATION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:message id="m_pay" name="payment_order"/>
  <bpmn:process id="office" name="Office and bank" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:parallelGateway id="split">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>g1</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="prepare"/>
    <bpmn:userTask id="prepare" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="prepare" targetRef="send"/>
    <bpmn:sendTask id="send" messageRef="m_pay">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f4" sourceRef="send" targetRef="join"/>
    <bpmn:sequenceFlow id="g1" sourceRef="split" targetRef="receive"/>
    <bpmn:receiveTask id="receive" messageRef="m_pay">
      <bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing>
    </bpmn:receiveTask>
    <bpmn:sequenceFlow id="g2" sourceRef="receive" targetRef="book"/>
    <bpmn:userTask id="book" camunda:candidateGroups="政策审核组">
      <bpmn:incoming>g2</bpmn:incoming><bpmn:outgoing>g3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="g3" sourceRef="book" targetRef="join"/>
    <bpmn:parallelGateway id="join">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>g3</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_message_caught_in_its_own_application_stays_there(
    demo_db: Database, worker: Worker
) -> None:
    with demo_db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session, park=park, actor="admin", bpmn={"office.bpmn": ONE_APPLICATION.encode()}
        )
    instance_id = start(demo_db, "office", {})
    assert [name for name, _ in waits(demo_db, instance_id)] == ["payment_order"]
    complete(demo_db, instance_id, "prepare", {"amount": 9}, "zhang.wei")
    # SpiffWorkflow routed it inside the application: nothing to deliver, the wait is gone
    assert message_jobs(demo_db, instance_id) == []
    assert waits(demo_db, instance_id) == []
    assert list(open_tasks(demo_db, instance_id)) == ["book"]
    assert {"send", "receive"} <= {step.element_id for step in history(demo_db, instance_id)}
    complete(demo_db, instance_id, "book", {}, "zhang.wei")
    with demo_db.read() as session:
        assert session.get_one(Instance, instance_id).status == "completed"
