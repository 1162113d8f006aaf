"""A return (退回) in Parkflow against SpiffWorkflow's own reset, on the same diagram.

Raw SpiffWorkflow keeps every finished task, so it returns with ``reset_from_task_id`` on the
earlier task itself (given the returning task's data, which is what Parkflow's re-entered
task starts with), and removes the dropped waiting events from its event manager (the
reference's caveat for 3.2). Parkflow has pruned that task long before; it grafts a fresh one
(engine/returns.py). After every action both must offer the same tasks and timers, and end
with the same decisions.

Two differences in the data are by design, and left out of the comparison:

* SpiffWorkflow's reset merges the earlier task's parent data over the data it is given, so a
  variable a later step changed (``passes``, counted by a script) goes back to its value from
  before; in Parkflow a return does not undo what happened since: the re-entered task starts
  with the returning task's data.
* as a consequence, where a parallel section runs again after a return, its join merges the
  branches' data (the last branch to arrive wins, in both) from different starting values:
  the data of those runs is not compared (``NO_DATA``).
* SpiffWorkflow's reset drops a side path that ended from the earlier task's boundary event
  (``step1_chase``); Parkflow keeps it, and its data is merged when the process ends.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine import Engine

from .harness import EPOCH, _raw_timers, deploy, visit_data

BPMN = Path(__file__).resolve().parents[1] / "engine" / "data" / "returns" / "returns.bpmn"
RETURN = "return:"

# each script: user tasks to complete by element id, ``return:<from>:<to>`` for a return,
# ``timer:<element>`` to fire a timer
SCRIPTS = {
    "back_to_the_first_step": [
        "step1",
        "step2",
        "return:step3:step1",
        "step1",
        "step2",
        "step3",
        "check_a",
        "check_b",
        "sign_off",
    ],
    "over_a_parallel_section": [
        "step1",
        "step2",
        "step3",
        "check_b",
        "check_a",
        "return:sign_off:step3",
        "step3",
        "check_a",
        "check_b",
        "sign_off",
    ],
    "over_a_parallel_section_twice": [
        "step1",
        "step2",
        "step3",
        "check_a",
        "check_b",
        "return:sign_off:step1",
        "step1",
        "step2",
        "step3",
        "check_b",
        "check_a",
        "return:sign_off:step2",
        "step2",
        "step3",
        "check_a",
        "check_b",
        "sign_off",
    ],
    "across_a_waiting_timer": [
        "step1",
        "return:step2:step1",
        "timer:step1_late",
        "step1_chase",
        "step1",
        "return:step2:step1",
        "step1",
        "step2",
        "return:step3:step2",
        "step2",
        "step3",
        "check_a",
        "check_b",
        "sign_off",
    ],
}

NO_DATA = {"over_a_parallel_section_twice"}

Seen = tuple[tuple[str, ...], tuple[str, ...]]


def run_raw(script: list[str]) -> tuple[list[Seen], dict[str, Any]]:
    parser = CamundaParser()
    parser.add_bpmn_str(BPMN.read_bytes(), filename=BPMN.name)
    workflow = BpmnWorkflow(parser.get_spec("returns"), parser.get_subprocess_specs("returns"))
    workflow.task_tree.data.update({"passes": 0})
    seen: list[Seen] = []
    visits: dict[str, int] = {}

    def look() -> None:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        seen.append(
            (
                tuple(sorted(t.task_spec.bpmn_id for t in ready)),
                tuple(sorted(_raw_timers(workflow))),
            )
        )

    def open_task(element: str) -> Any:
        return next(
            t
            for t in workflow.get_tasks(state=TaskState.READY, manual=True)
            if t.task_spec.bpmn_id == element
        )

    with time_machine.travel(EPOCH, tick=False) as clock:
        workflow.do_engine_steps()
        look()
        for action in script:
            if action.startswith(RETURN):
                source, target = action[len(RETURN) :].split(":")
                data = dict(open_task(source).data)
                earlier = [
                    t
                    for t in workflow.get_tasks(state=TaskState.COMPLETED)
                    if t.task_spec.bpmn_id == target
                ]
                for dropped in workflow.reset_from_task_id(earlier[-1].id, data=data):
                    workflow.event_manager.remove_task(dropped)
            elif action.startswith("timer:"):
                clock.move_to(_raw_timers(workflow)[action[6:]] + timedelta(seconds=1))
                workflow.refresh_timers()
            else:
                visits[action] = visits.get(action, 0) + 1
                task = open_task(action)
                task.set_data(**visit_data(action, visits[action]))
                task.run()
            workflow.do_engine_steps()
            look()
    return seen, dict(workflow.data)


def run_parkflow(script: list[str]) -> tuple[list[Seen], dict[str, Any]]:
    version = deploy({BPMN.name: BPMN.read_bytes()}, {})["returns"]
    engine = Engine()
    seen: list[Seen] = []
    visits: dict[str, int] = {}
    with time_machine.travel(EPOCH, tick=False) as clock:
        snapshot = engine.start(version, {"passes": 0}, actor="applicant")

        def look() -> None:
            seen.append(
                (
                    tuple(sorted(t.element_id for t in snapshot.open_tasks)),
                    tuple(sorted(t.element_id for t in snapshot.timers)),
                )
            )

        def task_id(element: str) -> str:
            return next(t.task_id for t in snapshot.open_tasks if t.element_id == element)

        look()
        for action in script:
            if action.startswith(RETURN):
                source, target = action[len(RETURN) :].split(":")
                snapshot = engine.return_task(version, snapshot.state, task_id(source), target)
            elif action.startswith("timer:"):
                due = {t.element_id: t.due_at for t in snapshot.timers}[action[6:]]
                clock.move_to(due + timedelta(seconds=1))
                snapshot = engine.fire_due_timers(version, snapshot.state)
            else:
                visits[action] = visits.get(action, 0) + 1
                snapshot = engine.complete_task(
                    version, snapshot.state, task_id(action), visit_data(action, visits[action])
                )
            look()
    assert snapshot.status == "completed"
    return seen, dict(snapshot.data)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_return_runs_on_as_after_spiffworkflows_reset(name: str) -> None:
    raw_seen, raw_data = run_raw(SCRIPTS[name])
    seen, data = run_parkflow(SCRIPTS[name])
    assert seen == raw_seen
    if name not in NO_DATA:
        assert decisions(data) == decisions(raw_data)


def decisions(data: dict[str, Any]) -> dict[str, Any]:
    """What the main path's tasks submitted (see the module's docstring for the rest)."""
    return {
        key: value for key, value in data.items() if key.startswith("n_") and key != "n_step1_chase"
    }
