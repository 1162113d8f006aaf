"""Service tasks call registered functions by name, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from engine import Engine, InvalidProcess, prepare_deployment
from engine.services import SERVICES, register_service

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="svc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Compute">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="service" value="{service}"/>
        <camunda:property name="factor" value="3"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="check"/>
    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="reviewers">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def triple() -> Iterator[str]:
    @register_service("test_triple")
    def run(data: Mapping[str, Any], properties: Mapping[str, str]) -> Mapping[str, Any]:
        if not isinstance(data.get("amount"), int):
            raise ValueError("amount must be a whole number")
        return {"tripled": data["amount"] * int(properties["factor"])}

    yield "test_triple"
    del SERVICES["test_triple"]


def version(service: str) -> Any:
    (deployed,) = prepare_deployment({"svc.bpmn": DIAGRAM.format(service=service).encode()}, {}, {})
    return deployed


def test_a_registered_service_sets_variables(triple: str) -> None:
    snapshot = Engine().start(version(triple), {"amount": 7})
    assert snapshot.status == "active"
    assert snapshot.data["tripled"] == 21
    assert [step.element_id for step in snapshot.steps] == ["start", "call"]


def test_a_failing_service_fails_its_step_with_the_reason(triple: str) -> None:
    snapshot = Engine().start(version(triple), {"amount": "seven"})
    assert snapshot.status == "error"
    assert snapshot.error is not None and snapshot.error.element_id == "call"
    assert "amount must be a whole number" in snapshot.error.message


def test_an_unknown_service_is_refused_at_deploy_time() -> None:
    with pytest.raises(InvalidProcess) as refused:
        version("format_disk")
    assert [p.element_id for p in refused.value.problems] == ["call"]
    assert "no service named 'format_disk'" in refused.value.problems[0].message


def test_the_built_in_record_time_service() -> None:
    snapshot = Engine().start(version("record_time"), {})
    assert snapshot.data["recorded_at"].endswith("+00:00")
