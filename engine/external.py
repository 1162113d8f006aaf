"""External service tasks: the steps an outside worker does (Camunda's fetch-and-lock pattern).

A ``bpmn:serviceTask`` with ``camunda:type="external"`` and a ``camunda:topic`` calls nothing
in Parkflow: the instance waits there, the task started, until a worker completes it with
variables or reports a BPMN error, which an error boundary event on the task (or around it)
catches by its ``errorCode``. Locks, retries and incidents are the store's business: the
engine only knows that the task waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from .connectors import HTTP_TOPIC
from .errors import EngineError, TaskNotOpen
from .services import ParkServiceTask
from .values import OpenExternalTask


class ErrorNotCaught(EngineError):
    """A BPMN error reported at an external task that no error event catches."""

    def __init__(self, element_id: str, code: str) -> None:
        self.element_id = element_id
        self.code = code
        super().__init__(
            f"no error boundary event catches the error '{code}' thrown at '{element_id}'"
        )


def is_waiting_external(task: Any) -> bool:
    """Whether ``task`` is an external service task waiting for its worker."""
    spec = task.task_spec
    return bool(
        task._state & TaskState.STARTED
        and isinstance(spec, ParkServiceTask)
        and spec.topic is not None
    )


def external_tasks(tasks: Iterable[Any]) -> tuple[OpenExternalTask, ...]:
    """The waiting external tasks among ``tasks``, with the data each one sees."""
    return tuple(
        OpenExternalTask(
            task_id=str(task.id),
            element_id=task.task_spec.bpmn_id,
            name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            topic=task.task_spec.topic or "",
            variables=dict(task.data),
            properties=dict(task.task_spec.extensions or {})
            if task.task_spec.topic == HTTP_TOPIC
            else {},
        )
        for task in tasks
        if is_waiting_external(task)
    )


def waiting_external(workflow: BpmnWorkflow, task_id: str) -> Any:
    """The external task ``task_id``, if it still waits for its worker; else TaskNotOpen."""
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, WorkflowException, KeyError):
        task = None
    if task is None:
        raise TaskNotOpen(str(task_id), "there is no such task in this application")
    if not is_waiting_external(task):
        raise TaskNotOpen(str(task_id))
    return task


def complete(task: Any, variables: Mapping[str, Any]) -> None:
    """Finish the external task with the variables its worker reports."""
    task.set_data(**variables)
    task.complete()


def throw_error(task: Any, code: str, variables: Mapping[str, Any]) -> None:
    """Throw BPMN error ``code`` at the external task; ErrorNotCaught when nothing catches it.

    The catching event's path gets ``variables``; an interrupting boundary event cancels the
    task, as a BPMN error ends the activity it is thrown in.
    """
    top = task.workflow.top_workflow
    uncaught_before = len(top.bpmn_events)
    event = BpmnEvent(
        ErrorEventDefinition(code, code=code), payload=dict(variables), target=task.workflow
    )
    top.catch(event)
    if len(top.bpmn_events) > uncaught_before:
        # an uncaught error stays where it was thrown: the caller keeps the stored state
        raise ErrorNotCaught(task.task_spec.bpmn_id, code)
