"""Camunda variable mappings and listeners run as drawn, and what cannot run is refused.

SpiffWorkflow's Camunda parser ignores ``camunda:inputOutput``, ``camunda:in``/``out`` and
listeners: a diagram using them ran with every variable everywhere and no listener at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine import Engine, InvalidProcess, Problem, prepare_deployment
from tests.engine.test_deploy_checks import line_of, through

MAPPINGS = (Path(__file__).parent / "data" / "features" / "mappings.bpmn").read_bytes()


def start_review(engine: Engine, data: dict[str, Any]) -> tuple[Any, Any]:
    (version,) = [
        v
        for v in prepare_deployment({"mappings.bpmn": MAPPINGS}, {}, {})
        if v.key == "mapped_review"
    ]
    return version, engine.start(version, data)


def test_input_parameters_and_start_listeners_set_the_task_s_local_variables() -> None:
    engine = Engine()
    version, started = start_review(engine, {"amount": 7, "applicant": "Li"})

    (task,) = started.open_tasks
    seen = engine.task_data(version, started.state, task.task_id)

    assert {k: seen[k] for k in ("limit", "greeting", "channel", "amount", "started")} == {
        "limit": 14,
        "greeting": "Dear Li",
        "channel": "online",
        "amount": 8,
        "started": "yes",
    }


def test_local_variables_go_and_outputs_and_end_listeners_stay() -> None:
    engine = Engine()
    version, started = start_review(engine, {"amount": 7, "applicant": "Li", "limit": "outer"})

    done = engine.complete_task(
        version, started.state, started.open_tasks[0].task_id, {"approved": True}
    )

    assert done.status == "completed", done.error
    assert done.data["limit"] == "outer"  # the variable the input parameter hid comes back
    assert done.data["amount"] == 7
    assert "greeting" not in done.data and "channel" not in done.data
    assert (done.data["decision"], done.data["seen_limit"]) == (True, 14)
    assert (done.data["reviewed_twice"], done.data["ended"]) == (True, True)


def test_call_activities_pass_only_what_camunda_in_and_out_name() -> None:
    engine = Engine()
    version, started = start_review(engine, {"amount": 7, "applicant": "Li"})

    done = engine.complete_task(
        version, started.state, started.open_tasks[0].task_id, {"approved": True}
    )

    # the first call gets value and scaled only, and gives back its result as check_result
    assert done.data["check_result"] == 8
    assert "scaled" not in done.data
    # the second passes everything both ways, value included
    assert (done.data["value"], done.data["result"]) == (7, 8)


def test_a_failing_input_parameter_stops_the_instance_at_its_task() -> None:
    version, started = start_review(Engine(), {"applicant": "Li"})

    assert started.status == "error"
    assert started.error is not None
    assert started.error.element_id == "review"
    assert started.error.message.startswith("input parameter 'limit': unknown variable 'amount'")


def problems_of(bpmn: bytes) -> list[Problem]:
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"checks.bpmn": bpmn}, {}, {})
    return list(refused.value.problems)


def task_with(extensions: str, tag: str = "userTask") -> bytes:
    return through(
        f'<bpmn:{tag} id="it" camunda:candidateGroups="office">'
        f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements></bpmn:{tag}>"
    )


@pytest.mark.parametrize(
    ("extension", "reason"),
    [
        (
            '<camunda:executionListener event="start" class="com.example.Audit"/>',
            "camunda:executionListener with a Java class or delegate: Parkflow runs no Java code",
        ),
        (
            '<camunda:taskListener event="create" delegateExpression="${notifier}"/>',
            "camunda:taskListener with a Java class or delegate",
        ),
        (
            '<camunda:executionListener event="start">'
            '<camunda:script scriptFormat="javascript">x = 1</camunda:script>'
            "</camunda:executionListener>",
            "scriptFormat 'javascript' is not supported: scripts are Python",
        ),
        (
            '<camunda:executionListener event="start">'
            '<camunda:script scriptFormat="groovy" resource="audit.groovy"/>'
            "</camunda:executionListener>",
            "scriptFormat 'groovy' is not supported",
        ),
        (
            '<camunda:executionListener event="take" '
            "expression=\"${execution.setVariable('a', 1)}\"/>",
            "event 'take' is not supported: use end or start",
        ),
        (
            '<camunda:taskListener event="assignment" expression="${task.setVariable(\'a\', 1)}"/>',
            "event 'assignment' is not supported: use complete or create",
        ),
        (
            '<camunda:executionListener event="end" expression="${audit.log(execution)}"/>',
            "a listener expression sets a variable",
        ),
        (
            '<camunda:executionListener event="end" '
            "expression=\"${execution.setVariable('a', 1 +)}\"/>",
            "camunda:executionListener expression: syntax error",
        ),
        (
            '<camunda:inputOutput><camunda:inputParameter name="a">${1 +</camunda:inputParameter>'
            "</camunda:inputOutput>",
            "camunda:inputParameter 'a': '${' is never closed",
        ),
        (
            '<camunda:inputOutput><camunda:outputParameter name="a">${risk(x)}'
            "</camunda:outputParameter>"
            "</camunda:inputOutput>",
            "unknown function risk()",
        ),
        (
            '<camunda:inputOutput><camunda:inputParameter name="a"><camunda:list/>'
            "</camunda:inputParameter></camunda:inputOutput>",
            "only a text or ${...} value is supported",
        ),
        ('<camunda:in source="a" target="b"/>', "camunda:in is supported on call activities only"),
    ],
)
def test_what_parkflow_cannot_run_is_refused_with_the_reason(extension: str, reason: str) -> None:
    bpmn = task_with(extension)

    (found,) = problems_of(bpmn)

    assert found.element_id == "it"
    assert found.line == line_of(bpmn, "extensionElements")
    assert reason in found.message


def test_a_python_listener_script_is_checked_like_a_script_task() -> None:
    bpmn = task_with(
        '<camunda:executionListener event="start">'
        '<camunda:script scriptFormat="python">import os</camunda:script>'
        "</camunda:executionListener>"
    )

    (found,) = problems_of(bpmn)

    assert found.element_id == "it"
    assert "camunda:executionListener script line 1:" in found.message


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [
        ('<camunda:out target="b"/>', "camunda:out needs a source or a sourceExpression"),
        ('<camunda:in source="a"/>', 'camunda:in needs a target (or variables="all")'),
        (
            '<camunda:in sourceExpression="${a +" target="b"/>',
            "camunda:in sourceExpression: '${' is never closed: the closing '}' is missing",
        ),
    ],
)
def test_a_call_mapping_without_its_parts_is_refused(mapping: str, reason: str) -> None:
    bpmn = through(
        f'<bpmn:callActivity id="it" calledElement="checks">'
        f"<bpmn:extensionElements>{mapping}</bpmn:extensionElements>"
        "</bpmn:callActivity>"
    )

    assert (reason, "it") in {(p.message, p.element_id) for p in problems_of(bpmn)}
