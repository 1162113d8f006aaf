"""The HTTP connector: a ``service=http`` task waits for the worker; its call is built here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import (
    HTTP_TOPIC,
    ConnectorFailed,
    Engine,
    InvalidProcess,
    build_request,
    map_response,
    parse_config,
    prepare_deployment,
)

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="pay" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="bank"/>
    <bpmn:serviceTask id="bank" name="Pay the subsidy">
      <bpmn:extensionElements><camunda:properties>{properties}</camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="bank" targetRef="check"/>
    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="reviewers">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
PAY = {
    "service": "http",
    "method": "POST",
    "url": "https://bank.example/pay/${enterprise}",
    "header.Authorization": "Bearer ${secret.bank_token}",
    "body": '{"amount": amount, "currency": "CNY"}',
    "output.payment_id": 'body["id"]',
    "output.paid_status": "status",
    "retries": "2",
}


def diagram(properties: dict[str, str]) -> str:
    props = "".join(
        f'<camunda:property name="{name}" value="{_attr(value)}"/>'
        for name, value in properties.items()
    )
    return DIAGRAM.format(properties=props)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def version(properties: dict[str, str]) -> Any:
    (deployed,) = prepare_deployment({"pay.bpmn": diagram(properties).encode()}, {}, {})
    return deployed


def test_an_http_task_waits_for_the_worker_with_its_properties() -> None:
    snapshot = Engine().start(version(PAY), {"amount": 500, "enterprise": "星河"})
    (waiting,) = snapshot.external_tasks
    assert waiting.topic == HTTP_TOPIC
    assert waiting.element_id == "bank"
    assert waiting.properties["url"] == PAY["url"]
    assert waiting.variables == {"amount": 500, "enterprise": "星河"}
    assert snapshot.open_tasks == ()


def test_completing_it_with_the_mapped_variables_runs_on() -> None:
    engine, deployed = Engine(), version(PAY)
    started = engine.start(deployed, {"amount": 500, "enterprise": "x"})
    task_id = started.external_tasks[0].task_id
    config = parse_config(started.external_tasks[0].properties)
    mapped = map_response(config, 201, {"Content-Type": "application/json"}, b'{"id": "P-1"}')
    assert mapped == {"payment_id": "P-1", "paid_status": 201}
    done = engine.complete_external_task(deployed, started.state, task_id, mapped)
    assert [task.element_id for task in done.open_tasks] == ["check"]
    assert done.data["payment_id"] == "P-1"


def test_the_request_is_filled_from_the_variables_and_secrets() -> None:
    config = parse_config(PAY)
    request = build_request(config, {"amount": 500, "enterprise": "星河 1"}, {"bank_token": "s3"})
    assert request.method == "POST"
    assert request.url == "https://bank.example/pay/%E6%98%9F%E6%B2%B3%201"
    assert request.headers["Authorization"] == "Bearer s3"
    assert json.loads(request.body or b"") == {"amount": 500, "currency": "CNY"}
    assert config.retries == 2 and config.timeout == 10


def test_a_missing_secret_or_variable_is_named() -> None:
    config = parse_config(PAY)
    with pytest.raises(ConnectorFailed, match="no secret named 'bank_token'"):
        build_request(config, {"amount": 1, "enterprise": "x"}, {})
    with pytest.raises(ConnectorFailed, match="body"):
        build_request(config, {"enterprise": "x"}, {"bank_token": "s"})


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": ""}, "http_without_method"),
        ({"method": "FETCH"}, "http_bad_method"),
        ({"url": ""}, "http_without_url"),
        ({"url": "ftp://bank.example"}, "http_bad_url"),
        ({"body": "{amount"}, "http_bad_expression"),
        ({"url": "https://bank.example/${enterprise"}, "http_bad_expression"),
        ({"timeout": "600"}, "http_bad_number"),
        ({"output.1x": "status"}, "http_bad_output"),
        ({"password": "hunter2"}, "http_unknown_property"),
    ],
)
def test_deploy_refuses_a_bad_configuration(change: dict[str, str], code: str) -> None:
    properties = {**PAY, **change}
    properties = {name: value for name, value in properties.items() if value or name == "body"}
    with pytest.raises(InvalidProcess) as refused:
        version(properties)
    codes = {problem.code for problem in refused.value.problems}
    assert code in codes, refused.value.problems
