"""Cron timer cycles fire on their schedule in the park's time zone; date helpers add days.

SpiffWorkflow's cycle timer reads ISO repetitions only, and Parkflow refused any cron value a
Camunda diagram carried (``0 0 9 ? * MON-FRI``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import time_machine

from engine import Engine, InvalidProcess, prepare_deployment
from engine.expressions import evaluate
from engine.validation_exprs import expression_problem
from tests.engine.test_deploy_checks import through
from tests.engine.test_runtime import MONDAY, Instance, local


def reminded(cycle: str) -> bytes:
    return through(
        '<bpmn:userTask id="it" camunda:candidateGroups="office"/>'
        '<bpmn:boundaryEvent id="remind" attachedToRef="it" cancelActivity="false">'
        f"<bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle>"
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:userTask id="chase" camunda:candidateGroups="office"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="chase"/>'
    ).replace(
        b'<bpmn:endEvent id="end"/>',
        b'<bpmn:endEvent id="end"/><bpmn:endEvent id="e2"/>'
        b'<bpmn:sequenceFlow id="f4" sourceRef="chase" targetRef="e2"/>',
    )


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("cycle", ["0 0 9 ? * MON-FRI", "0 9 * * MON-FRI"])
def test_a_cron_cycle_fires_on_each_working_morning(clock: Any, cycle: str) -> None:
    (version,) = prepare_deployment({"cron.bpmn": reminded(cycle)}, {}, {})
    run = Instance(Engine(), version)

    assert run.timers == {"remind": local(3, 9)}  # Monday 09:00 has just passed
    run.fire(clock, "remind")
    assert run.open == ["chase", "it"]
    assert run.timers == {"remind": local(4, 9)}
    for day in (4, 5, 6):  # Wednesday to Friday
        assert run.fire(clock, "remind") == local(day, 9)
    assert run.timers == {"remind": local(9, 9)}  # on to Monday
    assert run.open == ["chase"] * 4 + ["it"]


def test_an_iso_cycle_still_runs_as_before(clock: Any) -> None:
    (version,) = prepare_deployment({"iso.bpmn": reminded("R2/PT1H")}, {}, {})
    run = Instance(Engine(), version)

    assert run.timers == {"remind": local(2, 10)}
    run.fire(clock, "remind")
    assert run.timers == {"remind": local(2, 11)}


@pytest.mark.parametrize(
    ("cycle", "reason"),
    [
        ("0 0 25 * * ?", "not a valid cron expression"),
        ("0 0 9 ? * MON-FRI 2027", "a cron cycle has 6 fields"),
    ],
)
def test_a_malformed_cron_cycle_is_refused_at_deploy(cycle: str, reason: str) -> None:
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"cron.bpmn": reminded(cycle)}, {}, {})

    (found,) = refused.value.problems
    assert found.element_id == "remind" and reason in found.message


def test_add_days_moves_dates_and_times_by_calendar_days() -> None:
    assert evaluate("add_days(date('2026-03-06'), 3)", {}) == date(2026, 3, 9)
    assert evaluate(
        "${add_days(received, -1)}", {"received": "2026-03-02T09:00:00+08:00"}
    ) == datetime.fromisoformat("2026-03-01T09:00:00+08:00")
    assert expression_problem("add_days(now(), 2) > deadline") is None


def test_add_working_days_skips_the_weekend() -> None:
    functions = Engine().functions

    assert evaluate("add_working_days('2026-03-06', 1)", {}, functions) == date(2026, 3, 9)
    assert evaluate("add_working_days(d, 5)", {"d": local(6, 14)}, functions) == local(13, 14)
    assert expression_problem("${add_working_days(now(), 3)}") is None
