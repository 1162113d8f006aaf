"""Human tasks and step history as the engine reports them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .approval import node_result, signer_of
from .calendars import subtract_working_days
from .copies import cc_targets
from .definitions import ProcessVersion
from .errors import ExpressionError
from .expressions import compile_expression
from .sandbox import ScriptError
from .values import HumanTaskSpec, OpenTask, StepError, StepRecord
from .worktime import WorkCalendar, resolve_due

CREATED, DUE, FOLLOW_UP = "pf_created", "pf_due", "pf_follow_up"
FAILURE = "pf_error"


class TaskWalk:
    """One walk over an instance's task tree, answering the several questions a change asks.

    SpiffWorkflow answers every ``get_tasks`` query with a walk of its own, and one change used
    to ask about ten of them. A walk records the tree's tasks in two orders:

    * ``everything``: every task, depth first, a subprocess's tasks just before the task that
      ran it: the order in which a sequence of steps finishes (see `all_tasks`);
    * ``queried``: the tasks that SpiffWorkflow's queries for a definite state (READY,
      WAITING) reach, in the order they return them: a task before its subprocess's tasks,
      and nothing below a predicted task.

    The lists hold the tree's shape at the time of the walk; the filters read each task's
    state when called, so a walk stays valid while only states change, and must be taken
    again after the tree itself changes (running tasks, pruning).
    """

    __slots__ = ("everything", "queried")

    def __init__(self, workflow: BpmnWorkflow) -> None:
        subprocesses = workflow.subprocesses
        everything: list[Any] = []
        queried: list[Any] = []
        # (task, reached by a definite-state query, already visited: emit it now)
        stack: list[tuple[Any, bool, bool]] = [(workflow.task_tree, True, False)]
        while stack:
            task, reached, visited = stack.pop()
            if visited:
                everything.append(task)
                continue
            if reached:
                queried.append(task)
            sub = subprocesses.get(task.id) if subprocesses else None
            if task._children:
                down = reached and (task._state >= TaskState.FUTURE or sub is not None)
                tasks = task.workflow.tasks
                stack.extend((tasks[child], down, False) for child in reversed(task._children))
            if sub is None:
                everything.append(task)
            else:
                stack.append((task, reached, True))
                stack.append((sub.task_tree, reached, False))
        self.everything = everything
        self.queried = queried

    def ready_manual(self) -> list[Any]:
        """As ``get_tasks(state=READY, manual=True)``: the open human tasks."""
        return [t for t in self.queried if t._state & TaskState.READY and t.task_spec.manual]

    def waiting_events(self) -> list[Any]:
        """As ``get_tasks(state=WAITING, spec_class=CatchingEvent)``: timers, messages, ..."""
        return [t for t in self.queried
                if t._state & TaskState.WAITING and isinstance(t.task_spec, CatchingEvent)]

    def first(self, state: int) -> Any:
        """As ``get_next_task(state=...)`` for a definite state: the first such task, or None."""
        return next((t for t in self.queried if t._state & state), None)

    def failed(self) -> Any:
        """The first task left in error, or None."""
        return next((t for t in self.everything if t._state & TaskState.ERROR), None)


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Any]:
    """Every task of the instance and of its subprocesses, in whatever state.

    SpiffWorkflow's state-filtered queries do not descend below a task in a lower state than
    the one asked for, so they miss a completed or failed multi-instance child under its
    still-running parent. This walk visits the whole tree depth first, a subprocess's tasks
    just before the task that ran it: the order in which a sequence of steps finishes.
    """
    return iter(TaskWalk(workflow).everything)


def completed_ids(workflow: BpmnWorkflow) -> set[Any]:
    """Ids of the tasks that have completed so far.

    Reads the task maps rather than walking the tree: they hold the same tasks (SpiffWorkflow
    removes a dropped task from its map, and every subprocess is listed in the top one).
    """
    found = {task_id for task_id, task in workflow.tasks.items()
             if task._state == TaskState.COMPLETED}
    for sub in workflow.subprocesses.values():
        found.update(task_id for task_id, task in sub.tasks.items()
                     if task._state == TaskState.COMPLETED)
    return found


def failed_task(workflow: BpmnWorkflow) -> Any:
    """The first task left in error, or None."""
    return TaskWalk(workflow).failed()


def assign_dates(ready: Iterable[Any], version: ProcessVersion, calendar: WorkCalendar,
                 now: datetime) -> StepError | None:
    """Fix created/due/follow-up times of newly ready human tasks, once, in their task state.

    ``ready`` are the READY human tasks (`TaskWalk.ready_manual`).

    A due date that cannot be resolved (an expression over a variable nobody set) leaves the
    task in error instead of failing the whole change: the step that led here is kept, and
    the task opens once the cause is fixed and the instance is retried.
    """
    error: StepError | None = None
    for task in ready:
        if CREATED in task.internal_data:
            continue
        human = version.human_tasks.get(task.task_spec.bpmn_id)
        dates: dict[str, str] = {}
        try:
            for key, text in ((DUE, human.due_date if human else None),
                              (FOLLOW_UP, human.follow_up_date if human else None)):
                if text:
                    dates[key] = resolve_due(text, start=now, calendar=calendar,
                                             variables=task.data).isoformat()
        except ExpressionError as exc:
            failure = StepError(task.task_spec.bpmn_id, None, f"due date: {exc}")
            record_failure(task, failure)
            error = error or failure
            continue
        if DUE in dates and FOLLOW_UP not in dates:
            dates[FOLLOW_UP] = default_follow_up(datetime.fromisoformat(dates[DUE]), now,
                                                 calendar).isoformat()
        task.internal_data[CREATED] = now.isoformat()
        task.internal_data.update(dates)
    return error


def default_follow_up(due: datetime, created: datetime, calendar: WorkCalendar) -> datetime:
    """One working day before the task is due, but never before the task existed."""
    return max(subtract_working_days(due, 1, calendar), created)


def record_failure(task: Any, error: StepError) -> None:
    """Leave ``task`` in error with the reason, so the stored state can tell it later."""
    task._set_state(TaskState.ERROR)
    task.internal_data[FAILURE] = {"line": error.line, "message": error.message}


def stored_failure(task: Any) -> StepError:
    """The reason a task was left in error, as recorded when it failed."""
    found = task.internal_data.get(FAILURE) or {}
    return StepError(task.task_spec.bpmn_id or "", found.get("line"),
                     found.get("message") or "the step failed")


def open_tasks(ready: Iterable[Any], version: ProcessVersion,
               functions: Mapping[str, Callable[..., Any]]) -> tuple[OpenTask, ...]:
    """The READY human tasks (`TaskWalk.ready_manual`) with their people and dates resolved."""
    found = []
    for task in ready:
        spec = task.task_spec
        human = version.human_tasks.get(spec.bpmn_id) or _unnamed(spec)
        # one signer's instance of an approval node (engine.approval) is theirs alone
        signer = signer_of(task, human)
        found.append(OpenTask(
            task_id=str(task.id),
            element_id=spec.bpmn_id,
            name=human.name,
            lane=spec.lane or human.lane,
            candidate_groups=() if signer else _people(human.candidate_groups, task.data,
                                                       functions),
            candidate_users=(signer,) if signer else _people(human.candidate_users, task.data,
                                                             functions),
            assignee=signer or _one(human.assignee, task.data, functions),
            form_key=human.form_key,
            due_at=_time(task.internal_data.get(DUE)),
            follow_up_at=_time(task.internal_data.get(FOLLOW_UP)),
            priority=human.priority,
            properties=human.properties,
            cc=cc_targets(human.properties.get("cc")) if "cc" in human.properties else (),
        ))
    return tuple(found)


def _unnamed(spec: Any) -> HumanTaskSpec:
    name = spec.bpmn_name or spec.bpmn_id
    groups = (spec.lane,) if spec.lane else ()
    return HumanTaskSpec(spec.bpmn_id, name, spec.lane, groups, (), None, None, None, None, None)


def _is_expression(text: str) -> bool:
    return text.startswith(("${", "#{"))


def _one(text: str | None, data: Mapping[str, Any],
         functions: Mapping[str, Callable[..., Any]]) -> str | None:
    if not text:
        return None
    if not _is_expression(text):
        return text
    try:
        value = compile_expression(text).evaluate(data, functions)
    except ExpressionError:
        return None
    return str(value) if value not in (None, "") else None


def _people(values: tuple[str, ...], data: Mapping[str, Any],
            functions: Mapping[str, Callable[..., Any]]) -> tuple[str, ...]:
    resolved: list[str] = []
    for value in values:
        if not _is_expression(value):
            resolved.append(value)
            continue
        one = _one(value, data, functions)
        if one:
            resolved.extend(part.strip() for part in one.split(",") if part.strip())
    return tuple(resolved)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def step_records(walk: TaskWalk, finished_before: set[Any], now: datetime, *,
                 actor: str | None, completing: Any, version: ProcessVersion,
                 submitted: Mapping[str, Any] | None = None) -> tuple[StepRecord, ...]:
    """The BPMN elements that finished during this change, in the order they finished."""
    done = [t for t in walk.everything if t._state == TaskState.COMPLETED
            and t.task_spec.bpmn_id and t.id not in finished_before]
    done.sort(key=lambda t: t.last_state_change)
    records = []
    for task in done:
        spec = task.task_spec
        human = version.human_tasks.get(spec.bpmn_id)
        is_completing = completing is not None and task.id == completing.id
        records.append(StepRecord(
            task_id=str(task.id),
            element_id=spec.bpmn_id,
            name=(human.name if human else None) or spec.bpmn_name or spec.bpmn_id,
            kind=type(spec).__name__,
            lane=spec.lane,
            completed_at=now,
            completed_by=actor if is_completing else None,
            outcome=_outcome(submitted, human) if is_completing else node_result(task, human),
            data=dict(submitted) if is_completing and submitted is not None else None,
        ))
    return tuple(records)


def _outcome(submitted: Mapping[str, Any] | None, human: HumanTaskSpec | None) -> str | None:
    # only what this completion submitted: the task's data still holds earlier outcomes
    field = (human.properties.get("outcomeField") if human else None) or "outcome"
    value = (submitted or {}).get(field)
    return str(value) if value is not None else None


def step_error(workflow: BpmnWorkflow, exc: SpiffWorkflowException) -> StepError:
    """Where and why the engine stopped, in words an administrator can act on.

    The reason is also kept on the failed task, so that the stored state reports it again.
    """
    task = getattr(exc, "task", None)
    failed = failed_task(workflow) or task
    element = failed.task_spec.bpmn_id if failed is not None else ""
    cause = exc.__cause__ or exc.__context__
    original = getattr(exc, "exception", None) or cause
    if isinstance(original, ScriptError):
        error = StepError(element or "", original.line, original.message)
    else:
        line = getattr(exc, "line_number", None) or None
        message = str(original) if original is not None else str(exc).splitlines()[0].strip()
        error = StepError(element or "", line, message)
    if failed is not None and failed.state == TaskState.ERROR:
        failed.internal_data[FAILURE] = {"line": error.line, "message": error.message}
    return error
