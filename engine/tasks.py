"""Human tasks and step history as the engine reports them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .definitions import ProcessVersion
from .errors import ExpressionError
from .expressions import compile_expression
from .sandbox import ScriptError
from .values import HumanTaskSpec, OpenTask, StepError, StepRecord
from .worktime import WorkCalendar, resolve_due

CREATED, DUE, FOLLOW_UP = "pf_created", "pf_due", "pf_follow_up"


def assign_dates(workflow: BpmnWorkflow, version: ProcessVersion, calendar: WorkCalendar,
                 functions: Mapping[str, Callable[..., Any]], now: datetime) -> None:
    """Fix created/due/follow-up times of newly ready human tasks, once, in their task state."""
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        if CREATED in task.internal_data:
            continue
        task.internal_data[CREATED] = now.isoformat()
        human = version.human_tasks.get(task.task_spec.bpmn_id)
        if human is None:
            continue
        for key, text in ((DUE, human.due_date), (FOLLOW_UP, human.follow_up_date)):
            if text:
                task.internal_data[key] = resolve_due(
                    text, start=now, calendar=calendar, variables=task.data).isoformat()


def open_tasks(workflow: BpmnWorkflow, version: ProcessVersion,
               functions: Mapping[str, Callable[..., Any]]) -> tuple[OpenTask, ...]:
    """Every READY human task with its people and dates resolved."""
    found = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        human = version.human_tasks.get(spec.bpmn_id) or _unnamed(spec)
        found.append(OpenTask(
            task_id=str(task.id),
            element_id=spec.bpmn_id,
            name=human.name,
            lane=spec.lane or human.lane,
            candidate_groups=_people(human.candidate_groups, task.data, functions),
            candidate_users=_people(human.candidate_users, task.data, functions),
            assignee=_one(human.assignee, task.data, functions),
            form_key=human.form_key,
            due_at=_time(task.internal_data.get(DUE)),
            follow_up_at=_time(task.internal_data.get(FOLLOW_UP)),
            priority=human.priority,
            properties=human.properties,
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


def step_records(workflow: BpmnWorkflow, finished_before: set[Any], now: datetime, *,
                 actor: str | None, completing: Any, version: ProcessVersion,
                 submitted: Mapping[str, Any] | None = None) -> tuple[StepRecord, ...]:
    """The BPMN elements that finished during this change, in the order they finished."""
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.id not in finished_before and t.task_spec.bpmn_id]
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
            outcome=_outcome(task, human) if is_completing else None,
            data=dict(submitted) if is_completing and submitted is not None else None,
        ))
    return tuple(records)


def _outcome(task: Any, human: HumanTaskSpec | None) -> str | None:
    field = (human.properties.get("outcomeField") if human else None) or "outcome"
    value = task.data.get(field)
    return str(value) if value is not None else None


def step_error(workflow: BpmnWorkflow, exc: SpiffWorkflowException) -> StepError:
    """Where and why the engine stopped, in words an administrator can act on."""
    task = getattr(exc, "task", None)
    failed = next(iter(workflow.get_tasks(state=TaskState.ERROR)), None) or task
    element = failed.task_spec.bpmn_id if failed is not None else ""
    cause = exc.__cause__ or exc.__context__
    original = getattr(exc, "exception", None) or cause
    if isinstance(original, ScriptError):
        return StepError(element or "", original.line, original.message)
    line = getattr(exc, "line_number", None) or None
    message = str(original) if original is not None else str(exc).splitlines()[0]
    return StepError(element or "", line, message)
