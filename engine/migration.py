"""Moving a waiting application to another version of its procedure (instance migration).

An application waits at one place of its diagram: an open user task (with the boundary
events attached to it), or an intermediate timer or message catch event. A move builds the
workflow afresh from the target version's specs and places the token at the mapped element
the way a return places one (engine/returns.py): a fresh task of the element's entry spec
(its boundary-event split when it has boundary events) below the start, readied by
``reset_from_task_id`` with the application's data. Nothing of the serialized state is edited.

What is carried over besides the data and the message correlations:

* an open task keeps its created, due and follow-up times (so it is as late as it was);
* a waiting timer keeps the moment it fires (``event_value``), whether an intermediate
  timer or a boundary timer of the open task, even when the target's duration differs;
* a non-interrupting boundary event that already fired does not fire again.

Elements map by id unless the mapping names another element of the target for an id of the
source. What cannot be moved is refused with every reason at once (`MigrationProblem`): a
waiting element missing in the target or of another kind, a waiting timer or message with no
counterpart, an application running inside a subprocess or call activity, in several
parallel branches at once, in a multi-instance step (会签, 或签), at an external task or an
event-based gateway, in error, or a procedure with event subprocesses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError
from .returns import RESUME, entry_spec, resume_point

# the Parkflow keys of an open task's internal data that travel with it (dates, 直达)
CARRIED_PREFIX = "pf_"
EVENT_VALUE = "event_value"
_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class MigrationProblem:
    """Why an application cannot move: the element concerned, a code and an English text.

    Codes: ``missing_target``, ``other_kind``, ``unknown_element``, ``no_counterpart``,
    ``in_subprocess``, ``parallel``, ``multi_instance``, ``external_task``,
    ``event_gateway``, ``in_error``, ``event_subprocess``, ``nothing_waiting``.
    """

    element_id: str
    code: str
    message: str


class CannotMigrate(EngineError):
    """The application cannot move to the target version; ``problems`` say why."""

    def __init__(self, problems: Iterable[MigrationProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.element_id}: {p.message}" for p in self.problems))


@dataclass
class _Plan:
    """Where the token stands in the source and where it goes in the target."""

    main: Any  # the open user task or the waiting catch event
    target: Any  # the target's spec for it
    boundary: list[tuple[Any, Any]] = field(default_factory=list)  # (old task, new spec)
    mapping: dict[str, str] = field(default_factory=dict)  # what was applied, old -> new


def plan_migration(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocess_specs: Mapping[str, Any],
    mapping: Mapping[str, str],
    *,
    event_subprocesses: bool = False,
) -> tuple[_Plan | None, list[MigrationProblem]]:
    """How ``workflow`` would move onto ``new_spec``, or every reason it cannot."""
    problems = _mapping_problems(workflow, new_spec, new_subprocess_specs, mapping)
    if event_subprocesses:
        problems.append(
            MigrationProblem(
                workflow.spec.name,
                "event_subprocess",
                "the procedure has event subprocesses, whose waiting starts a move does not carry",
            )
        )
    units: dict[Any, list[Any]] = {}
    for task in workflow.get_tasks(state=_OPEN):
        problem = _token_problem(workflow, task)
        if problem is not None:
            if problem not in problems:
                problems.append(problem)
            continue
        unit = _unit_of(task)
        if unit is not None:
            units.setdefault(unit, []).append(task)
    if problems:
        return None, problems
    if not units:
        return None, [
            MigrationProblem(
                workflow.spec.name,
                "nothing_waiting",
                "the application waits at no step, timer or message",
            )
        ]
    if len(units) > 1:
        names = sorted(_name(_main_of(unit, members).task_spec) for unit, members in units.items())
        return None, [
            MigrationProblem(
                _main_of(*next(iter(units.items()))).task_spec.bpmn_id,
                "parallel",
                f"several steps are open at once ({', '.join(names)}); a move places one path",
            )
        ]
    unit, members = next(iter(units.items()))
    return _plan_unit(unit, members, new_spec, mapping)


def place(workflow: BpmnWorkflow, plan: _Plan) -> None:
    """Put the token of ``plan`` into the fresh ``workflow`` (built from the target's specs)."""
    old = plan.main
    start = workflow.task_tree
    start.set_data(**old.data)
    start._drop_children(force=True)
    start._set_state(TaskState.COMPLETED)
    entry = entry_spec(workflow.spec, plan.target)
    fresh = start._add_child(entry, TaskState.FUTURE)
    # the documented way to (re)start a task: data from its parent, fresh internal data;
    # it predicts the entry's children (the task itself and its boundary events)
    workflow.reset_from_task_id(fresh.id)
    tasks = {fresh.task_spec.name: fresh, **{t.task_spec.name: t for t in fresh.children}}
    new_main = tasks.get(plan.target.name, fresh)
    new_main.internal_data.update(_carried(old, plan.mapping, workflow.spec))
    if EVENT_VALUE in old.internal_data:
        new_main.internal_data[EVENT_VALUE] = old.internal_data[EVENT_VALUE]
    for old_event, new_event_spec in plan.boundary:
        found = tasks.get(new_event_spec.name)
        if found is None:
            continue
        if old_event.has_state(TaskState.FINISHED_MASK):
            found.cancel()  # it fired already (non-interrupting): it does not fire again
        elif EVENT_VALUE in old_event.internal_data:
            found.internal_data[EVENT_VALUE] = old_event.internal_data[EVENT_VALUE]


def _carried(old: Any, mapping: Mapping[str, str], new_spec: Any) -> dict[str, Any]:
    carried = {
        key: value for key, value in old.internal_data.items() if key.startswith(CARRIED_PREFIX)
    }
    carried.pop(RESUME, None)
    resume = resume_point(old)  # on the task, or on its boundary-event split
    if resume is not None:
        # 直达 remembers the spec to go back to: the mapped one, when the target has it
        old_id = _entry_element(old.workflow.spec.task_specs.get(resume))
        new_task = _by_id(new_spec, mapping.get(old_id, old_id)) if old_id else None
        if new_task is not None:
            carried[RESUME] = entry_spec(new_spec, new_task).name
    return carried


def _entry_element(spec: Any) -> str | None:
    """The element an entry spec starts: itself, or the task a boundary-event split wraps."""
    if isinstance(spec, BoundaryEventSplit):
        spec = next((s for s in spec.outputs if not isinstance(s, CatchingEvent)), None)
    return str(spec.bpmn_id) if spec is not None and spec.bpmn_id else None


def _mapping_problems(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocess_specs: Mapping[str, Any],
    mapping: Mapping[str, str],
) -> list[MigrationProblem]:
    old_ids = _element_ids(workflow.spec, workflow.subprocess_specs)
    new_ids = _element_ids(new_spec, new_subprocess_specs)
    problems = []
    for source, target in mapping.items():
        if source not in old_ids:
            problems.append(
                MigrationProblem(
                    str(source),
                    "unknown_element",
                    "the mapping names an element the application's version does not have",
                )
            )
        if target not in new_ids:
            problems.append(
                MigrationProblem(
                    str(source),
                    "unknown_element",
                    f"the mapping names {target!r}, which the target version does not have",
                )
            )
    return problems


def _element_ids(spec: Any, subprocess_specs: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for each in (spec, *subprocess_specs.values()):
        found.update(ts.bpmn_id for ts in each.task_specs.values() if ts.bpmn_id)
    return found


def _token_problem(workflow: BpmnWorkflow, task: Any) -> MigrationProblem | None:
    spec = task.task_spec
    element = spec.bpmn_id or workflow.spec.name
    if task.has_state(TaskState.ERROR):
        return MigrationProblem(
            element, "in_error", f"{_name(spec)} failed; retry or cancel it before moving"
        )
    if task.workflow is not workflow:
        where = workflow.get_task_from_id(task.workflow.parent_task_id).task_spec
        return MigrationProblem(
            where.bpmn_id,
            "in_subprocess",
            f"the application is running inside the subprocess or call activity "
            f"{_name(where)}; a move places steps of the main process only",
        )
    if not spec.bpmn_id:
        return None  # the engine's own joins
    if isinstance(spec, CatchingEvent) and isinstance(spec, StartEvent):
        return None  # an event subprocess waiting to start: refused on the procedure
    if isinstance(spec, SubWorkflowTask):
        return MigrationProblem(
            spec.bpmn_id,
            "in_subprocess",
            f"the application is running inside the subprocess or call activity "
            f"{_name(spec)}; a move places steps of the main process only",
        )
    parent_spec: Any = task.parent.task_spec if task.parent is not None else None
    if isinstance(spec, LoopTask) or isinstance(parent_spec, LoopTask):
        loop = spec if isinstance(spec, LoopTask) else parent_spec
        return MigrationProblem(
            loop.bpmn_id,
            "multi_instance",
            f"{_name(loop)} is a multi-instance step under way (会签, 或签, 依次审批); "
            f"it cannot move while people sign",
        )
    if isinstance(spec, EventBasedGateway):
        return MigrationProblem(
            spec.bpmn_id,
            "event_gateway",
            "the application waits at an event-based gateway, which a move does not place",
        )
    if task.has_state(TaskState.STARTED):
        return MigrationProblem(
            spec.bpmn_id,
            "external_task",
            f"{_name(spec)} waits for an outside worker (an external task); it cannot move "
            f"until the worker reports",
        )
    return None


def _unit_of(task: Any) -> Any:
    """The task that starts the place ``task`` waits at (a split for boundary events)."""
    spec = task.task_spec
    if task.has_state(TaskState.READY) and not spec.manual and not isinstance(spec, CatchingEvent):
        return None  # engine work that runs on by itself
    if not spec.bpmn_id:
        return None
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        return parent
    return task


def _main_of(unit: Any, members: list[Any]) -> Any:
    if isinstance(unit.task_spec, BoundaryEventSplit):
        for child in unit.children:
            if not isinstance(child.task_spec, CatchingEvent):
                return child
    return members[0]


def _plan_unit(
    unit: Any, members: list[Any], new_spec: Any, mapping: Mapping[str, str]
) -> tuple[_Plan | None, list[MigrationProblem]]:
    main = _main_of(unit, members)
    old_id = main.task_spec.bpmn_id
    target_id = mapping.get(old_id, old_id)
    target = _by_id(new_spec, target_id)
    problems: list[MigrationProblem] = []
    what = "the open step" if main.task_spec.manual else "the waiting event"
    if target is None:
        problems.append(
            MigrationProblem(
                old_id,
                "missing_target",
                f"{what} {_name(main.task_spec)} has no counterpart {target_id!r} in the target "
                f"version's main process: map it to an element of the target",
            )
        )
        return None, problems
    if _kind(target) != _kind(main.task_spec) or isinstance(target, LoopTask):
        problems.append(
            MigrationProblem(
                old_id,
                "other_kind",
                f"{what} {_name(main.task_spec)} would move to {_name(target)}, which is another "
                f"kind of element ({_kind_text(target)}, not {_kind_text(main.task_spec)})",
            )
        )
        return None, problems
    plan = _Plan(main=main, target=target, mapping={old_id: target_id})
    if unit is not main:
        new_events = {ts.bpmn_id: ts for ts in _boundary_specs(new_spec, target)}
        for event in unit.children:
            if event is main:
                continue
            event_id = event.task_spec.bpmn_id
            mapped = mapping.get(event_id, event_id)
            counterpart = new_events.get(mapped)
            if counterpart is not None and _kind(counterpart) == _kind(event.task_spec):
                plan.boundary.append((event, counterpart))
                plan.mapping[event_id] = mapped
            elif event.has_state(TaskState.WAITING):
                problems.append(
                    MigrationProblem(
                        event_id,
                        "no_counterpart",
                        f"the waiting {_kind_text(event.task_spec)} {_name(event.task_spec)} on "
                        f"{_name(main.task_spec)} has no counterpart on {_name(target)} in the "
                        f"target version",
                    )
                )
    return (None, problems) if problems else (plan, [])


def _boundary_specs(spec: Any, task_spec: Any) -> list[Any]:
    entry = entry_spec(spec, task_spec)
    if entry is task_spec:
        return []
    return [ts for ts in entry.outputs if ts is not task_spec]


def _by_id(spec: Any, element_id: str) -> Any:
    found = spec.task_specs.get(element_id)
    return found if found is not None and found.bpmn_id == element_id else None


def _kind(spec: Any) -> tuple[str, str]:
    definition = getattr(spec, "event_definition", None)
    return type(spec).__name__, type(definition).__name__ if definition is not None else ""


def _kind_text(spec: Any) -> str:
    definition = getattr(spec, "event_definition", None)
    if definition is None:
        return "user task" if spec.manual else type(spec).__name__
    text = type(definition).__name__.removesuffix("EventDefinition").lower() or "event"
    return f"{text} event"


def _name(spec: Any) -> str:
    return f"“{spec.bpmn_name}”" if spec.bpmn_name else repr(spec.bpmn_id or spec.name)


__all__ = ["CannotMigrate", "MigrationProblem", "place", "plan_migration"]
