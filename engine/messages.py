"""BPMN messages: what an instance waits for, and delivering one to it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import (
    MessageEventDefinition as CamundaMessageEventDefinition,
)
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from .errors import ExpressionError, NotWaiting
from .values import MessageWait


def _message_definitions(definition: Any) -> Iterator[MessageEventDefinition]:
    if isinstance(definition, MessageEventDefinition):
        yield definition
    elif isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _message_definitions(inner)


def _waiting(workflow: BpmnWorkflow) -> Iterator[tuple[Any, MessageEventDefinition]]:
    return _message_waits(workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent))


def _message_waits(waiting: Iterable[Any]) -> Iterator[tuple[Any, MessageEventDefinition]]:
    for task in waiting:
        for definition in _message_definitions(task.task_spec.event_definition):
            yield task, definition


def _expected(task: Any, definition: MessageEventDefinition) -> dict[str, Any]:
    """Correlation values the waiting task expects, from the instance's own data."""
    environment = task.workflow.script_engine.environment
    expected: dict[str, Any] = {}
    for prop in definition.correlation_properties:
        try:
            expected[prop.name] = environment.evaluate(prop.retrieval_expression, task.data)
        except ExpressionError:
            continue
    return expected


def awaited_messages(waiting: Iterable[Any]) -> tuple[MessageWait, ...]:
    """Every message the instance waits for, with the correlation it expects.

    ``waiting`` are the instance's WAITING catch events (`TaskWalk.waiting_events`).
    """
    return tuple(MessageWait(definition.name, _expected(task, definition))
                 for task, definition in _message_waits(waiting))


def deliver(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    """Hand message ``name`` to the task waiting for it; NotWaiting if none does or correlates."""
    for task, definition in _waiting(workflow):
        if definition.name != name:
            continue
        expected = _expected(task, definition)
        if not _correlates(workflow, definition, expected, payload):
            raise NotWaiting(f"message '{name}' with these correlation values")
        event = BpmnEvent(definition, payload=_wrapped(definition, payload),
                          correlations=expected)
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            raise NotWaiting(f"message '{name}'") from exc
        return
    raise NotWaiting(f"message '{name}'")


def _wrapped(definition: MessageEventDefinition, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the definition's class expects it.

    The Camunda message class stores the body under ``result_var`` (here: the message name,
    so ``bank_confirmation`` arrives as ``data["bank_confirmation"]``) and evaluates
    correlation expressions against the outer dict, which therefore repeats the body's keys.
    """
    if isinstance(definition, CamundaMessageEventDefinition):
        result_var = definition.result_var or definition.name
        return {**payload, "payload": payload, "result_var": result_var}
    return payload


def _correlates(workflow: BpmnWorkflow, definition: MessageEventDefinition,
                expected: dict[str, Any], payload: dict[str, Any]) -> bool:
    environment = workflow.script_engine.environment
    for prop in definition.correlation_properties:
        if prop.name not in expected:
            continue
        try:
            actual = environment.evaluate(prop.retrieval_expression, payload)
        except ExpressionError:
            return False
        if actual != expected[prop.name]:
            return False
    return True
