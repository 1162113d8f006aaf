"""Run one diagram in raw SpiffWorkflow and through Parkflow's engine, driven alike.

Raw means SpiffWorkflow alone: its Camunda parser, ``BpmnWorkflow`` and its default script
engine, one object in memory for the whole run. Parkflow means `engine.Engine`, which loads the
stored state, acts and stores it again on every call, pruning finished history each time. Both
runs get the same start data and, at every step, complete the same user task (chosen by element
id from what both offer) with the same data. A `Trace` records what each run showed after each
step; two traces must be equal.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine import Engine, ProcessVersion, prepare_deployment

# how a run chooses the task to complete and the data to complete it with
Chooser = Callable[[list[str], int], str]
DataFor = Callable[[str, int], dict[str, Any]]


@dataclass
class Trace:
    """What a run showed, step by step: comparable between raw and Parkflow."""

    steps: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    status: str = "active"
    data: dict[str, Any] = field(default_factory=dict)

    def step(self, action: str, completed: list[str], open_now: list[str]) -> None:
        self.steps.append((action, tuple(sorted(completed)), tuple(sorted(open_now))))

    def fail(self, action: str) -> None:
        """The step ``action`` failed: the run ends in error (how far it got is not compared:
        SpiffWorkflow alone leaves its tree half-advanced, where Parkflow keeps the failed
        task for a retry)."""
        self.status = "error"
        self.steps.append((action, ("(failed)",), ()))


# both runs start at the same frozen instant; firing a timer moves the clock past its due time
EPOCH = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TIMER = "timer:"


def visit_data(element_id: str, visit: int) -> dict[str, Any]:
    """The data a user task is completed with: how often it was completed, by element.

    Element ids may hold characters a variable name cannot (``check-variables``).
    """
    return {"n_" + re.sub(r"\W", "_", element_id): visit}


def seeded_chooser(seed: int) -> Chooser:
    """Pick among the open element ids (sorted) by a seeded random sequence."""
    rng = random.Random(seed)

    def choose(open_ids: list[str], step: int) -> str:
        return sorted(set(open_ids))[rng.randrange(len(set(open_ids)))]

    return choose


def _completed_now(tasks: list[Any], before: set[Any]) -> list[str]:
    return [t.task_spec.bpmn_id for t in tasks
            if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id and t.id not in before]


def _all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    found = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        found.extend(sub.tasks.values())
    return found


def run_raw(bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes], process_id: str, *,
            start_data: Mapping[str, Any], choose: Chooser, data_for: DataFor = visit_data,
            max_steps: int = 2000) -> Trace:
    """Drive ``process_id`` in SpiffWorkflow alone."""
    parser = CamundaParser()
    for name, content in bpmn.items():
        parser.add_bpmn_str(content, filename=name)
    for name, content in dmn.items():
        parser.add_dmn_str(content, filename=name)
    workflow = BpmnWorkflow(parser.get_spec(process_id),
                            parser.get_subprocess_specs(process_id))
    workflow.task_tree.data.update(start_data)
    trace = Trace()
    visits: dict[str, int] = {}

    def act(action: str, do: Callable[[], None]) -> bool:
        before = {t.id for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED}
        try:
            do()
            workflow.do_engine_steps()
        except Exception:  # noqa: BLE001 - SpiffWorkflow fails with more than its own errors
            trace.fail(action)
            return False
        ready = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY,
                                                                   manual=True)]
        timers = [TIMER + element for element in _raw_timers(workflow)]
        trace.step(action, _completed_now(_all_tasks(workflow), before), ready + timers)
        return True

    with time_machine.travel(EPOCH, tick=False) as clock:
        if not act("start", lambda: None):
            return trace
        for step in range(max_steps):
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            timers = _raw_timers(workflow)
            if not ready and not timers:
                break
            element = choose([t.task_spec.bpmn_id for t in ready]
                             + [TIMER + each for each in timers], step)
            if element.startswith(TIMER):
                clock.move_to(timers[element[len(TIMER):]] + timedelta(seconds=1))
                if not act(element, workflow.refresh_timers):
                    return trace
                continue
            if not _raw_complete(act, ready, element, visits, data_for):
                return trace
    trace.status = _raw_status(workflow)
    trace.data = _plain(dict(workflow.data if workflow.is_completed() else _live_data(workflow)))
    return trace


def _raw_complete(act: Callable[[str, Callable[[], None]], bool], ready: list[Any],
                  element: str, visits: dict[str, int], data_for: DataFor) -> bool:
    task = next(t for t in ready if t.task_spec.bpmn_id == element)
    visits[element] = visits.get(element, 0) + 1
    data = data_for(element, visits[element])

    def complete(task: Any = task, data: dict[str, Any] = data) -> None:
        task.set_data(**data)
        task.run()

    return act(element, complete)


def _raw_timers(workflow: BpmnWorkflow) -> dict[str, datetime]:
    """Waiting timers by element id, with their due times (as SpiffWorkflow stored them).

    An event-based gateway waits as one task whose definition holds all its events.
    """
    found: dict[str, datetime] = {}
    for task in workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent):
        definition = task.task_spec.event_definition
        inner = getattr(definition, "event_definitions", [definition])
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            value = value.get("next") if value.get("cycles") != 0 else None
        if value is None or not any(isinstance(d, TimerEventDefinition) for d in inner):
            continue
        due = TimerEventDefinition.parse_time_or_duration(value)
        if isinstance(due, datetime):
            found[task.task_spec.bpmn_id] = due
    return found


def _raw_status(workflow: BpmnWorkflow) -> str:
    if not workflow.is_completed():
        return "active"
    return "completed" if workflow.success else "cancelled"


def _live_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    for state in (TaskState.READY, TaskState.WAITING):
        task = workflow.get_next_task(state=state)
        if task is not None:
            return dict(task.data)
    return dict(workflow.task_tree.data)


def deploy(bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes],
           forms: Mapping[str, Any] | None = None) -> dict[str, ProcessVersion]:
    """The deployment's executable processes, by key, as Parkflow deploys them."""
    return {v.key: v for v in prepare_deployment(dict(bpmn), dict(dmn), dict(forms or {}))}


def run_parkflow(version: ProcessVersion, *, start_data: Mapping[str, Any], choose: Chooser,
                 data_for: DataFor = visit_data, engine: Engine | None = None,
                 max_steps: int = 2000) -> Trace:
    """Drive ``version`` through Parkflow's engine, the state stored between every call."""
    engine = engine or Engine()
    trace = Trace()
    visits: dict[str, int] = {}
    with time_machine.travel(EPOCH, tick=False) as clock:
        snapshot = engine.start(version, dict(start_data), actor="applicant")
        action = "start"
        for step in range(max_steps + 1):
            if snapshot.status == "error":
                trace.fail(action)
                return trace
            timers = {timer.element_id: timer.due_at for timer in snapshot.timers}
            trace.step(action, [s.element_id for s in snapshot.steps],
                       [t.element_id for t in snapshot.open_tasks]
                       + [TIMER + element for element in timers])
            if step == max_steps or not (snapshot.open_tasks or timers):
                break
            action = choose([t.element_id for t in snapshot.open_tasks]
                            + [TIMER + element for element in timers], step)
            try:
                if action.startswith(TIMER):
                    clock.move_to(timers[action[len(TIMER):]] + timedelta(seconds=1))
                    snapshot = engine.fire_due_timers(version, snapshot.state)
                    continue
                task = next(t for t in snapshot.open_tasks if t.element_id == action)
                visits[action] = visits.get(action, 0) + 1
                snapshot = engine.complete_task(version, snapshot.state, task.task_id,
                                                data_for(action, visits[action]),
                                                actor="reviewer")
            except Exception:  # noqa: BLE001 - as SpiffWorkflow fails in the raw run
                trace.fail(action)
                return trace
    trace.status = snapshot.status
    trace.data = _plain(dict(snapshot.data))
    return trace


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    # what a step may leave beside the process variables, in either run
    return {key: value for key, value in data.items() if key not in {"data_objects"}}


def same_runs(bpmn: Mapping[str, bytes], process_id: str, *, start_data: Mapping[str, Any],
              order: int) -> Trace:
    """Run ``process_id`` raw and through Parkflow with the same choices; assert both alike."""
    version = deploy(bpmn, {})[process_id]
    raw = run_raw(bpmn, {}, process_id, start_data=start_data, choose=seeded_chooser(order))
    ours = run_parkflow(version, start_data=start_data, choose=seeded_chooser(order))
    assert ours.steps == raw.steps
    assert (ours.status, ours.data) == (raw.status, raw.data)
    return ours


def sample(schema: Mapping[str, Any], visit: int = 1) -> dict[str, Any]:
    """Data a generated form accepts, changing with the visit so that loops end: the field's
    default on a first visit, else a value of its type (an enum's values in turn, booleans
    alternating, "Yes" for a text on every second visit, as these diagrams' conditions ask)."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        if "default" in prop and visit == 1:
            data[name] = prop["default"]
        elif "enum" in prop:
            data[name] = prop["enum"][(visit - 1) % len(prop["enum"])]
        elif prop.get("type") == "integer":
            data[name] = prop.get("minimum", 0) + visit
        elif prop.get("type") == "boolean":
            data[name] = visit % 2 == 1
        elif prop.get("format") == "date":
            data[name] = "2026-03-02"
        else:
            text = "Yes" if visit % 2 == 0 else "no"
            data[name] = text.ljust(prop.get("minLength", 1), ".")
    return data


def drawn_forms_driver(
    versions: Mapping[str, ProcessVersion],
) -> tuple[DataFor, dict[str, Any]]:
    """What to give the versions' drawn forms (camunda:formData): data for each task by element
    id, the driver's own data for the others, and each process's start data."""
    drawn = {
        element_id: version.forms[task.form_key]
        for version in versions.values()
        for element_id, task in version.human_tasks.items()
        if task.form_key and task.form_key.startswith("formData:")
    }

    def data_for(element_id: str, visit: int) -> dict[str, Any]:
        form = drawn.get(element_id)
        return sample(form, visit) if form is not None else visit_data(element_id, visit)

    starts = {
        key: sample(v.forms[v.start_form_key])
        if v.start_form_key and v.start_form_key.startswith("formData:")
        else {}
        for key, v in versions.items()
    }
    return data_for, starts
