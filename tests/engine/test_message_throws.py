"""Thrown messages: send tasks, intermediate throws and message end events, and conditional
events (caught conditions SpiffWorkflow evaluates again after every completed task)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from engine import (
    Engine,
    InvalidProcess,
    NotWaiting,
    ProcessVersion,
    Snapshot,
    prepare_deployment,
)
from engine.services import SERVICES, register_service

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
"""
MESSAGES = """
  <bpmn:message id="m_request" name="disbursement_request"/>
  <bpmn:message id="m_notice" name="notice"/>
  <bpmn:message id="m_done" name="subsidy_closed"/>
  <bpmn:correlationProperty id="cp_ref" name="application_no">
    <bpmn:correlationPropertyRetrievalExpression messageRef="m_request">
      <bpmn:messagePath>application_no</bpmn:messagePath>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
"""
SENDER = (
    HEAD
    + MESSAGES
    + """
  <bpmn:process id="sender" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="request"/>
    <bpmn:sendTask id="request" name="Request disbursement" messageRef="m_request">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f2" sourceRef="request" targetRef="notify"/>
    <bpmn:intermediateThrowEvent id="notify" name="Notify">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_notice"
          camunda:expression="${amount * 2}"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="notify" targetRef="end"/>
    <bpmn:endEvent id="end">
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:messageEventDefinition messageRef="m_done"
          camunda:expression="{'application_no': application_no, 'closed': True}"/>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)
RECEIVER = (
    HEAD
    + MESSAGES
    + """
  <bpmn:process id="receiver" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_request"/>
    <bpmn:receiveTask id="wait_request" messageRef="m_request">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:receiveTask>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_request" targetRef="wait_notice"/>
    <bpmn:intermediateCatchEvent id="wait_notice">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_notice"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait_notice" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)
# parallel branches of one process: each throw is caught by the other branch, in the instance
ONE_INSTANCE = (
    HEAD
    + """
  <bpmn:message id="m_pay" name="payment_order"/>
  <bpmn:message id="m_booked" name="booked"/>
  <bpmn:process id="office" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:parallelGateway id="split">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>g1</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="prepare"/>
    <bpmn:userTask id="prepare" camunda:candidateGroups="office">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="prepare" targetRef="send"/>
    <bpmn:sendTask id="send" messageRef="m_pay">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f4" sourceRef="send" targetRef="wait_booked"/>
    <bpmn:intermediateCatchEvent id="wait_booked">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_booked"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="wait_booked" targetRef="join"/>
    <bpmn:sequenceFlow id="g1" sourceRef="split" targetRef="receive"/>
    <bpmn:receiveTask id="receive" messageRef="m_pay">
      <bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing>
    </bpmn:receiveTask>
    <bpmn:sequenceFlow id="g2" sourceRef="receive" targetRef="book"/>
    <bpmn:userTask id="book" camunda:candidateGroups="bank">
      <bpmn:incoming>g2</bpmn:incoming><bpmn:outgoing>g3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="g3" sourceRef="book" targetRef="booked"/>
    <bpmn:intermediateThrowEvent id="booked">
      <bpmn:incoming>g3</bpmn:incoming><bpmn:outgoing>g4</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_booked" camunda:expression="amount + 1"
          camunda:resultVariable="booking"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="g4" sourceRef="booked" targetRef="join"/>
    <bpmn:parallelGateway id="join">
      <bpmn:incoming>f5</bpmn:incoming><bpmn:incoming>g4</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)
SERVICE_SEND = (
    HEAD
    + """
  <bpmn:process id="sms" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="text"/>
    <bpmn:sendTask id="text" name="Text the applicant">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="service" value="{service}"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:sendTask>
    <bpmn:sequenceFlow id="f2" sourceRef="text" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)
CONDITIONAL = (
    HEAD
    + """
  <bpmn:process id="watch" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:parallelGateway id="split">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="inspect"/>
    <bpmn:userTask id="inspect" camunda:candidateGroups="inspectors">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:dataOutputAssociation><bpmn:targetRef>result</bpmn:targetRef>
      </bpmn:dataOutputAssociation>
    </bpmn:userTask>
    <bpmn:dataObjectReference id="result" dataObjectRef="passed"/>
    <bpmn:dataObject id="passed"/>
    <bpmn:sequenceFlow id="f4" sourceRef="inspect" targetRef="end_a"/>
    <bpmn:endEvent id="end_a"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="until_passed"/>
    <bpmn:intermediateCatchEvent id="until_passed">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:conditionalEventDefinition>
        <bpmn:condition xsi:type="bpmn:tFormalExpression"
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${passed}</bpmn:condition>
      </bpmn:conditionalEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="until_passed" targetRef="certify"/>
    <bpmn:userTask id="certify" camunda:candidateGroups="inspectors">
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f6" sourceRef="certify" targetRef="end_b"/>
    <bpmn:endEvent id="end_b"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)


def deployed(source: str, key: str) -> ProcessVersion:
    versions = {v.key: v for v in prepare_deployment({f"{key}.bpmn": source.encode()}, {}, {})}
    return versions[key]


def open_ids(snapshot: Snapshot) -> list[str]:
    return sorted(task.element_id for task in snapshot.open_tasks)


def complete(
    engine: Engine,
    version: ProcessVersion,
    snapshot: Snapshot,
    element_id: str,
    data: Mapping[str, Any] | None = None,
) -> Snapshot:
    task = next(t for t in snapshot.open_tasks if t.element_id == element_id)
    return engine.complete_task(version, snapshot.state, task.task_id, data or {})


def test_every_throw_nothing_in_the_instance_catches_is_reported_once() -> None:
    engine = Engine()
    snapshot = engine.start(deployed(SENDER, "sender"), {"application_no": "ZC-7", "amount": 5})
    assert snapshot.status == "completed"
    by_name = {message.name: message for message in snapshot.messages}
    assert list(by_name) == ["disbursement_request", "notice", "subsidy_closed"]
    # a send task carries its data, with the correlation its properties compute from it
    assert by_name["disbursement_request"].payload == {"application_no": "ZC-7", "amount": 5}
    assert by_name["disbursement_request"].correlation == {"cp_ref": "ZC-7"}
    # a throw with camunda:expression carries the expression's value, of any type
    assert by_name["notice"].payload == 10
    assert by_name["subsidy_closed"].payload == {"application_no": "ZC-7", "closed": True}
    # reported, then gone from the state: a later call does not report them again
    assert engine.inspect(deployed(SENDER, "sender"), snapshot.state).messages == ()


def test_a_thrown_message_delivered_to_another_instance_continues_it() -> None:
    engine = Engine()
    sent = engine.start(deployed(SENDER, "sender"), {"application_no": "ZC-7", "amount": 5})
    receiver = deployed(RECEIVER, "receiver")
    waiting = engine.start(receiver, {"application_no": "ZC-7"})
    assert [w.name for w in waiting.awaited_messages] == ["disbursement_request"]
    by_name = {message.name: message for message in sent.messages}
    request = by_name["disbursement_request"]
    # a receive task merges the sender's variables
    step = engine.deliver_message(receiver, waiting.state, request.name, request.payload)
    assert step.data["amount"] == 5
    assert [w.name for w in step.awaited_messages] == ["notice"]
    # a Camunda catch keeps a value that is not a set of variables under the message's name
    notice = by_name["notice"]
    done = engine.deliver_message(receiver, step.state, notice.name, notice.payload)
    assert done.status == "completed"
    assert done.data["notice"] == 10


def test_a_message_caught_in_its_own_instance_is_routed_there_and_kept() -> None:
    engine = Engine()
    version = deployed(ONE_INSTANCE, "office")
    snapshot = engine.start(version, {})
    assert sorted(w.name for w in snapshot.awaited_messages) == ["payment_order"]
    snapshot = complete(engine, version, snapshot, "prepare", {"amount": 9})
    # the receive task caught the send task's data: nothing leaves the instance
    assert snapshot.messages == ()
    assert open_ids(snapshot) == ["book"]
    assert [w.name for w in snapshot.awaited_messages] == ["booked"]
    # the state stored between calls keeps both branches where they were
    snapshot = engine.inspect(version, snapshot.state)
    assert open_ids(snapshot) == ["book"]
    assert engine.task_data(version, snapshot.state, snapshot.open_tasks[0].task_id) == {
        "amount": 9
    }
    finished = complete(engine, version, snapshot, "book")
    assert finished.messages == ()
    assert finished.status == "completed"
    # within an instance the throw's camunda:resultVariable names the variable, as in
    # SpiffWorkflow
    assert finished.data["booking"] == 10


@pytest.fixture
def texting() -> Iterator[list[Mapping[str, Any]]]:
    sent: list[Mapping[str, Any]] = []

    @register_service("test_text")
    def run(data: Mapping[str, Any], properties: Mapping[str, str]) -> Mapping[str, Any]:
        sent.append(dict(data))
        return {"texted": True}

    yield sent
    del SERVICES["test_text"]


def test_a_send_task_naming_a_service_calls_it(texting: list[Mapping[str, Any]]) -> None:
    snapshot = Engine().start(
        deployed(SERVICE_SEND.replace("{service}", "test_text"), "sms"), {"phone": "138"}
    )
    assert texting == [{"phone": "138"}]
    assert snapshot.data["texted"] is True
    assert snapshot.messages == ()


def test_a_send_task_needs_a_message_or_a_registered_service() -> None:
    with pytest.raises(InvalidProcess) as refused:
        deployed(SERVICE_SEND.replace("{service}", "nobody_has_this"), "sms")
    assert "no service named 'nobody_has_this' is registered" in str(refused.value.problems)
    bare = SERVICE_SEND.replace(
        """<bpmn:extensionElements><camunda:properties>
        <camunda:property name="service" value="{service}"/>
      </camunda:properties></bpmn:extensionElements>""",
        "",
    )
    with pytest.raises(InvalidProcess) as refused:
        deployed(bare, "sms")
    assert "a send task needs a messageRef" in str(refused.value.problems)


def test_a_message_throw_without_payload_is_still_refused() -> None:
    without = SENDER.replace('\n          camunda:expression="${amount * 2}"', "")
    with pytest.raises(InvalidProcess) as refused:
        deployed(without, "sender")
    assert "a message throw needs its payload" in str(refused.value.problems)


def test_a_conditional_event_fires_once_a_completed_task_makes_it_true() -> None:
    # a parallel branch sees its own copy of the data: the condition reads a data object,
    # which the other branch's task writes when it completes (SpiffWorkflow's convention)
    engine = Engine()
    version = deployed(CONDITIONAL, "watch")
    snapshot = engine.start(version, {})
    assert open_ids(snapshot) == ["inspect"]
    snapshot = engine.inspect(version, snapshot.state)  # still waiting after a reload
    snapshot = complete(engine, version, snapshot, "inspect", {"passed": True})
    assert open_ids(snapshot) == ["certify"]
    assert complete(engine, version, snapshot, "certify").status == "completed"


def test_a_conditional_event_is_checked_at_deploy() -> None:
    for broken, reason in [
        ("${passed}", "${passed"),  # unclosed
        ("${passed}", ""),
    ]:
        source = CONDITIONAL.replace("${passed}", reason)
        with pytest.raises(InvalidProcess) as refused:
            deployed(source, "watch")
        assert "until_passed" in {p.element_id for p in refused.value.problems}, broken
    thrown = CONDITIONAL.replace(
        """<bpmn:endEvent id="end_a"><bpmn:incoming>f4</bpmn:incoming>""",
        """<bpmn:endEvent id="end_a"><bpmn:incoming>f4</bpmn:incoming>
      <bpmn:conditionalEventDefinition><bpmn:condition>passed</bpmn:condition>
      </bpmn:conditionalEventDefinition>""",
    )
    with pytest.raises(InvalidProcess) as refused:
        deployed(thrown, "watch")
    assert "a conditional event can only be caught" in str(refused.value.problems)


def test_a_message_without_the_correlation_property_is_not_caught() -> None:
    # the receiver has no number of its own to expect; SpiffWorkflow would still evaluate the
    # property over the payload when catching, and fail on a payload without it
    engine = Engine()
    receiver = deployed(RECEIVER, "receiver")
    waiting = engine.start(receiver, {})
    with pytest.raises(NotWaiting):
        engine.deliver_message(receiver, waiting.state, "disbursement_request", {"amount": 1})
    delivered = engine.deliver_message(
        receiver, waiting.state, "disbursement_request", {"application_no": "ZC-9"}
    )
    assert [w.name for w in delivered.awaited_messages] == ["notice"]


STARTED_BY_MESSAGE = (
    HEAD
    + MESSAGES
    + """
  <bpmn:process id="disbursement" isExecutable="true">
    <bpmn:startEvent id="requested">
      <bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m_request"/>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="requested" targetRef="pay"/>
    <bpmn:userTask id="pay" camunda:candidateGroups="finance">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
)


def test_a_process_says_which_messages_start_it() -> None:
    version = deployed(STARTED_BY_MESSAGE, "disbursement")
    assert version.start_messages == ("disbursement_request",)
    assert deployed(RECEIVER, "receiver").start_messages == ()
    # started, it waits at its start event; the message takes it on
    engine = Engine()
    waiting = engine.start(version, {})
    assert [w.name for w in waiting.awaited_messages] == ["disbursement_request"]
    started = engine.deliver_message(
        version, waiting.state, "disbursement_request", {"application_no": "ZC-3", "amount": 4}
    )
    assert open_ids(started) == ["pay"]
    assert started.data["disbursement_request"] == {"application_no": "ZC-3", "amount": 4}


def test_a_send_task_with_input_parameters_sends_those_only() -> None:
    mapped = SENDER.replace(
        """<bpmn:sendTask id="request" name="Request disbursement" messageRef="m_request">""",
        """<bpmn:sendTask id="request" name="Request disbursement" messageRef="m_request">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="application_no">${application_no}</camunda:inputParameter>
        <camunda:inputParameter name="total">${amount * 10}</camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>""",
    )
    snapshot = Engine().start(
        deployed(mapped, "sender"),
        {"application_no": "ZC-8", "amount": 5, "bank_account": "secret"},
    )
    (request,) = [m for m in snapshot.messages if m.name == "disbursement_request"]
    assert request.payload == {"application_no": "ZC-8", "total": 50}
    assert request.correlation == {"cp_ref": "ZC-8"}
    # the local variables went with the task: the application's data is as it was
    assert "total" not in snapshot.data
