"""What used to deploy and then fail when an application reached it is refused at deploy."""

from __future__ import annotations

import pytest

from engine import InvalidProcess, Problem, prepare_deployment
from tests.engine.bounds_diagrams import diagram


def through(element: str, *, before: str = "") -> bytes:
    """A process start → ``element`` (id ``it``) → end."""
    return diagram(
        "checks",
        f"""{before}
  <bpmn:process id="checks" isExecutable="true">
    <bpmn:startEvent id="start"/>
    {element}
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="it"/>
    <bpmn:sequenceFlow id="f2" sourceRef="it" targetRef="end"/>
  </bpmn:process>""",
    )


def line_of(bpmn: bytes, text: str) -> int:
    """The line of the first occurrence of ``text``."""
    return next(n for n, line in enumerate(bpmn.decode().splitlines(), 1) if text in line)


def problems_of(bpmn: bytes) -> list[Problem]:
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"checks.bpmn": bpmn}, {}, {})
    return list(refused.value.problems)


def test_a_timer_date_without_offset_is_refused() -> None:
    bpmn = through(
        '<bpmn:intermediateCatchEvent id="it"><bpmn:timerEventDefinition>'
        "<bpmn:timeDate>2026-12-31T17:00:00</bpmn:timeDate>"
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )

    (found,) = problems_of(bpmn)

    assert found.element_id == "it"
    assert found.line == line_of(bpmn, "Definition")
    assert "needs a UTC offset" in found.message


@pytest.mark.parametrize("event", ["intermediateThrowEvent", "endEvent"])
def test_a_message_throw_without_payload_is_refused(event: str) -> None:
    element = (
        f'<bpmn:{event} id="it"><bpmn:messageEventDefinition messageRef="done"/></bpmn:{event}>'
    )
    bpmn = through(element, before='<bpmn:message id="done" name="done"/>')
    if event == "endEvent":
        bpmn = bpmn.replace(b'<bpmn:endEvent id="end"/>', b"").replace(
            b'<bpmn:sequenceFlow id="f2" sourceRef="it" targetRef="end"/>', b""
        )

    (found,) = problems_of(bpmn)

    assert found.element_id == "it"
    assert "needs its payload" in found.message


def test_a_message_throw_with_payload_deploys() -> None:
    element = (
        '<bpmn:intermediateThrowEvent id="it"><bpmn:messageEventDefinition '
        'messageRef="done" camunda:expression="${amount}"/></bpmn:intermediateThrowEvent>'
    )

    (version,) = prepare_deployment(
        {"checks.bpmn": through(element, before='<bpmn:message id="done" name="done"/>')}, {}, {}
    )

    assert version.key == "checks"


def test_a_signal_without_signal_ref_is_refused() -> None:
    bpmn = through(
        '<bpmn:intermediateThrowEvent id="it"><bpmn:signalEventDefinition/>'
        "</bpmn:intermediateThrowEvent>"
    )

    (found,) = problems_of(bpmn)

    assert found.element_id == "it"
    assert found.line == line_of(bpmn, "Definition")
    assert "needs a signalRef" in found.message


def test_an_unclosed_placeholder_in_a_condition_is_refused() -> None:
    bpmn = diagram(
        "checks",
        """
  <bpmn:process id="checks" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="big" default="small"/>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="end_small"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="big"/>
    <bpmn:sequenceFlow id="large" sourceRef="big" targetRef="end">
      <bpmn:conditionExpression>${amount &gt; 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="big" targetRef="end_small"/>
  </bpmn:process>""",
    )

    (found,) = problems_of(bpmn)

    assert (found.element_id, found.line) == ("large", line_of(bpmn, "conditionExpression"))
    assert "'${' is never closed" in found.message


@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("assignee", "${reviewer", "'${' is never closed"),
        ("candidateGroups", "#{groups", "'#{' is never closed"),
        ("candidateUsers", "li, ${others}", "must be the whole value"),
        ("assignee", "${reviewer.name}", "attribute access is not allowed"),
    ],
)
def test_people_expressions_are_checked(attribute: str, value: str, reason: str) -> None:
    groups = "" if attribute == "candidateGroups" else 'camunda:candidateGroups="office" '
    (found,) = problems_of(
        through(f'<bpmn:userTask id="it" {groups}camunda:{attribute}="{value}"/>')
    )

    assert found.element_id == "it"
    assert reason in found.message


def test_people_expressions_that_compile_deploy() -> None:
    (version,) = prepare_deployment(
        {
            "checks.bpmn": through(
                '<bpmn:userTask id="it" camunda:candidateGroups="office, 审核组" '
                'camunda:assignee="${reviewer}"/>'
            )
        },
        {},
        {},
    )

    assert version.human_tasks["it"].assignee == "${reviewer}"
