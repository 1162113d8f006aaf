"""The shortcuts that keep a step cheap answer exactly as the SpiffWorkflow code they replace.

A change asks its questions (open tasks, waits, failures, finished steps) of one `TaskWalk`
instead of one SpiffWorkflow query each, and tasks are read and written by the engine's own
task converter. Both are checked against SpiffWorkflow here, on instances with subprocesses,
call activities, multi-instance, parallel branches, failed steps, timers and messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import time_machine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine import Engine
from engine.serialization import _REGISTRY, load_state
from engine.tasks import TaskWalk, completed_ids
from tests.engine.test_runtime import EXPERTS, MONDAY, deploy

# (diagram, process, start data, forms, a first completion: (element, data) or None)
CASES: list[tuple[str, str, dict[str, Any], tuple[str, ...], tuple[str, dict[str, Any]] | None]] = [
    ("subprocess", "subprocess", {}, (), None),
    ("call_activity", "caller", {}, ("inspection",), ("inspect_site", {"site_ok": True})),
    ("multi_instance", "parallel_sign_off", {"experts": EXPERTS}, (),
     ("p_sign_off", {"verdict": "agree"})),
    ("multi_instance", "sequential_sign_off", {"experts": EXPERTS}, (), ("s_sign_off", {})),
    ("escalation", "escalation", {}, (), ("notify_manager", {})),
    ("error_boundary", "error_boundary", {}, (), ("check", {"complete": False})),
    ("parallel_failure", "parallel_failure", {}, (), ("review", {})),
    ("messages", "await_payment", {"permit_no": "P-1001"}, (), None),
    ("messages", "documents_or_timeout", {"permit_no": "P-7"}, (), None),
    ("timer_events", "process_deadline", {}, (), None),
    ("boundary_timers", "boundary_timers", {}, (), None),
]


def _states(engine: Engine, case: tuple[Any, ...]) -> Iterator[tuple[Any, bytes]]:
    """The version and each state of a short run: after the start and after one completion."""
    name, key, data, forms, first = case
    version = deploy(name, forms=forms)[key]
    snapshot = engine.start(version, data)
    yield version, snapshot.state
    if first is not None:
        element, submitted = first
        task = next(t for t in snapshot.open_tasks if t.element_id == element)
        yield version, engine.complete_task(version, snapshot.state, task.task_id,
                                            submitted).state


def _load(engine: Engine, version: Any, state: bytes) -> BpmnWorkflow:
    compiled = engine._cache.get(version)
    return load_state(state, compiled.spec, compiled.subprocess_specs, engine._script_engine)


def _all_tasks_reference(workflow: BpmnWorkflow) -> list[Any]:
    """The walk `all_tasks` always made: a subprocess's tasks just before its calling task."""
    found: list[Any] = []

    def visit(root: Any) -> None:
        stack = [root]
        while stack:
            task = stack.pop()
            sub = workflow.subprocesses.get(task.id)
            if sub is not None:
                visit(sub.task_tree)
            found.append(task)
            stack.extend(reversed(task.children))

    visit(workflow.task_tree)
    return found


@pytest.fixture
def engine() -> Iterator[Engine]:
    with time_machine.travel(MONDAY, tick=False):
        yield Engine()


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_one_walk_answers_as_spiffworkflows_queries(engine: Engine, case: tuple[Any, ...]) -> None:
    for version, state in _states(engine, case):
        workflow = _load(engine, version, state)
        walk = TaskWalk(workflow)
        assert walk.ready_manual() == workflow.get_tasks(state=TaskState.READY, manual=True)
        assert walk.waiting_events() == workflow.get_tasks(state=TaskState.WAITING,
                                                           spec_class=CatchingEvent)
        for each in (TaskState.READY, TaskState.WAITING):
            assert walk.first(each) is workflow.get_next_task(state=each)
        assert walk.everything == _all_tasks_reference(workflow)
        assert walk.failed() is next(
            (t for t in walk.everything if t.state == TaskState.ERROR), None)
        assert completed_ids(workflow) == {
            t.id for t in walk.everything if t.state == TaskState.COMPLETED}


def _task_fields(task: Any) -> Mapping[str, Any]:
    return {"id": task.id, "parent": task._parent, "children": task._children,
            "state": task.state, "spec": task.task_spec.name, "triggered": task.triggered,
            "last_state_change": task.last_state_change, "data": task.data,
            "internal_data": task.internal_data}


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_tasks_are_written_and_read_as_spiffworkflow_does(engine: Engine,
                                                          case: tuple[Any, ...]) -> None:
    stock = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
    for version, state in _states(engine, case):
        workflow = _load(engine, version, state)
        for each in (workflow, *workflow.subprocesses.values()):
            written = {task_id: _REGISTRY.convert(task) for task_id, task in each.tasks.items()}
            assert written == {task_id: stock.convert(task)
                               for task_id, task in each.tasks.items()}
            ours, theirs = (BpmnWorkflow(each.spec, workflow.subprocess_specs,
                                         deserializing=True) for _ in range(2))
            for dct in written.values():
                mine = _task_fields(_REGISTRY.restore(dct, workflow=ours))
                assert mine == _task_fields(stock.restore(dct, workflow=theirs))
