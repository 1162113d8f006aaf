"""External service tasks wait for an outside worker, who completes them or throws a BPMN error."""

from __future__ import annotations

from typing import Any

import pytest

from engine import (
    Engine,
    ErrorNotCaught,
    FormDataInvalid,
    InvalidProcess,
    TaskNotOpen,
    prepare_deployment,
)

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:error id="err_refused" name="Refused" errorCode="TAX_REFUSED"/>
  <bpmn:process id="ext" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="tax"/>
    <bpmn:serviceTask id="tax" name="Ask the tax bureau" {attributes}>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="refused" attachedToRef="tax"><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:errorEventDefinition errorRef="err_refused"/></bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="tax" targetRef="check"/>
    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="reviewers">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="refused" targetRef="fix"/>
    <bpmn:userTask id="fix" name="Fix the tax data" camunda:candidateGroups="reviewers">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f5" sourceRef="fix" targetRef="end2"/>
    <bpmn:endEvent id="end2"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
EXTERNAL = 'camunda:type="external" camunda:topic="tax_check"'


def version(attributes: str = EXTERNAL) -> Any:
    (deployed,) = prepare_deployment(
        {"ext.bpmn": DIAGRAM.format(attributes=attributes).encode()}, {}, {}
    )
    return deployed


def test_an_external_task_waits_for_its_worker() -> None:
    snapshot = Engine().start(version(), {"amount": 3})
    assert snapshot.status == "active"
    assert snapshot.open_tasks == ()
    (waiting,) = snapshot.external_tasks
    assert (waiting.element_id, waiting.name, waiting.topic) == (
        "tax",
        "Ask the tax bureau",
        "tax_check",
    )
    assert waiting.variables == {"amount": 3}
    assert [step.element_id for step in snapshot.steps] == ["start"]


def test_the_waiting_task_survives_storing_and_loading() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {"amount": 3})
    again = engine.inspect(deployed, started.state)
    assert again.external_tasks == started.external_tasks
    assert again.data == {"amount": 3}


def test_completing_it_merges_the_variables_and_runs_on() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {"amount": 3})
    task_id = started.external_tasks[0].task_id
    done = engine.complete_external_task(
        deployed, started.state, task_id, {"tax_ok": True}, actor="tax-worker"
    )
    assert done.external_tasks == ()
    assert [task.element_id for task in done.open_tasks] == ["check"]
    assert done.data == {"amount": 3, "tax_ok": True}
    (step,) = done.steps
    assert (step.element_id, step.kind, step.completed_by) == (
        "tax",
        "ParkServiceTask",
        "tax-worker",
    )
    # the next step sees what the worker reported
    check = done.open_tasks[0].task_id
    assert engine.task_data(deployed, done.state, check)["tax_ok"] is True
    with pytest.raises(TaskNotOpen):
        engine.complete_external_task(deployed, done.state, task_id, {})


def test_a_worker_cannot_set_reserved_names() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {})
    with pytest.raises(FormDataInvalid) as refused:
        engine.complete_external_task(
            deployed, started.state, started.external_tasks[0].task_id, {"pf_x": 1}
        )
    assert "pf_x" in refused.value.errors


def test_a_human_task_is_not_an_external_one() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {})
    done = engine.complete_external_task(
        deployed, started.state, started.external_tasks[0].task_id, {}
    )
    with pytest.raises(TaskNotOpen):
        engine.complete_external_task(deployed, done.state, done.open_tasks[0].task_id, {})
    with pytest.raises(TaskNotOpen):
        engine.complete_external_task(deployed, done.state, "not-a-uuid", {})


def test_a_bpmn_error_is_caught_by_the_boundary_event_with_its_code() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {"amount": 3})
    caught = engine.throw_external_error(
        deployed,
        started.state,
        started.external_tasks[0].task_id,
        "TAX_REFUSED",
        {"reason": "arrears"},
    )
    assert caught.external_tasks == ()
    assert [task.element_id for task in caught.open_tasks] == ["fix"]
    assert caught.data["reason"] == "arrears"
    assert [step.element_id for step in caught.steps] == ["refused"]


def test_an_error_nothing_catches_is_refused_and_nothing_changes() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {})
    with pytest.raises(ErrorNotCaught) as refused:
        engine.throw_external_error(
            deployed, started.state, started.external_tasks[0].task_id, "OTHER"
        )
    assert (refused.value.element_id, refused.value.code) == ("tax", "OTHER")
    assert engine.inspect(deployed, started.state).external_tasks == started.external_tasks


def test_cancelling_withdraws_the_external_task() -> None:
    engine, deployed = Engine(), version()
    started = engine.start(deployed, {})
    assert engine.cancel(deployed, started.state).external_tasks == ()


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [
        ('camunda:type="external"', "needs a camunda:topic"),
        ('camunda:type="external" camunda:topic="  "', "needs a camunda:topic"),
        ('camunda:topic="tax_check"', 'camunda:topic needs camunda:type="external"'),
        ('camunda:type="rest" camunda:topic="tax_check"', "camunda:type 'rest' is not supported"),
    ],
)
def test_a_malformed_external_task_is_refused_at_deploy(attributes: str, fragment: str) -> None:
    with pytest.raises(InvalidProcess) as refused:
        version(attributes)
    assert any(p.element_id == "tax" and fragment in p.message for p in refused.value.problems), (
        refused.value.problems
    )


def test_an_external_task_names_no_registered_service() -> None:
    bpmn = DIAGRAM.format(attributes=EXTERNAL).replace(
        "<bpmn:incoming>f1</bpmn:incoming>",
        '<bpmn:extensionElements><camunda:properties><camunda:property name="service" '
        'value="record_time"/></camunda:properties></bpmn:extensionElements>'
        "<bpmn:incoming>f1</bpmn:incoming>",
        1,
    )
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"ext.bpmn": bpmn.encode()}, {}, {})
    assert any("calls no registered service" in p.message for p in refused.value.problems)
