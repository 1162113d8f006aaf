"""抄送 in the model: a ``cc`` property on a user task or the process, read by the engine."""

from __future__ import annotations

from engine import (
    CopyTarget,
    Engine,
    InvalidProcess,
    ProcessVersion,
    cc_targets,
    prepare_deployment,
)
from engine.copies import cc_problem

COPIED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="copied" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="cc" value="user:zhang, user:li"/>
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="begin"/>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="reviewers">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="cc" value="CC_VALUE"/></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="plain" name="Plain" camunda:candidateGroups="reviewers"/>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="plain"/>
    <bpmn:sequenceFlow id="f3" sourceRef="plain" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _sources(value: str) -> bytes:
    return COPIED.replace(b"CC_VALUE", value.encode())


def test_targets_are_read_in_order_once_each() -> None:
    assert cc_targets("group:园区领导, user:zhang,group:园区领导") == (
        CopyTarget("group", "园区领导"),
        CopyTarget("user", "zhang"),
    )
    assert cc_targets(None) == cc_targets("") == ()
    assert cc_problem("group:leaders,user:li") is None
    for bad in ("", " , ", "leaders", "team:x", "group:", "user:li,,"):
        assert cc_problem(bad) is not None, bad


def test_the_process_and_the_reached_task_hand_out_their_targets() -> None:
    version = ProcessVersion.from_sources("copied", _sources("group:leaders"))

    started = Engine().start(version, {})
    [review] = started.open_tasks
    after = Engine().complete_task(version, started.state, review.task_id, {})
    [plain] = after.open_tasks

    assert version.cc == (CopyTarget("user", "zhang"), CopyTarget("user", "li"))
    assert review.cc == (CopyTarget("group", "leaders"),)
    assert plain.cc == ()


def test_a_cc_naming_nobody_is_refused_at_deploy() -> None:
    try:
        prepare_deployment({"copied.bpmn": _sources("leaders")}, {}, {})
    except InvalidProcess as exc:
        problems = [(p.element_id, p.message) for p in exc.problems]
    else:
        raise AssertionError("deployed")

    assert len(problems) == 1
    assert problems[0][0] == "review"
    assert "'leaders' is neither group:<name> nor user:<username>" in problems[0][1]
