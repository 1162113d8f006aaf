"""BPMN messages: what an instance waits for, what it threw, and delivering one to it."""

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
from .values import MessageWait, ThrownMessage


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


def thrown_messages(workflow: BpmnWorkflow) -> tuple[ThrownMessage, ...]:
    """The messages thrown since the last call that nothing in the instance caught.

    SpiffWorkflow queues every event its catch found no taker for (and keeps the queue in the
    state); taking them here empties the queue, so each is reported once.
    """
    found = []
    for event in workflow.get_events():
        definition = event.event_definition
        if not isinstance(definition, MessageEventDefinition):
            continue  # a signal or escalation nobody caught ends there, as in SpiffWorkflow
        # the Camunda class carries its expression's value; a send task, a copy of its data
        body = (event.payload or {}).get("payload") if isinstance(
            definition, CamundaMessageEventDefinition) else event.payload
        found.append(ThrownMessage(definition.name, body, _computed(workflow, definition, body)))
    return tuple(found)


def _computed(workflow: BpmnWorkflow, definition: MessageEventDefinition,
              body: Any) -> dict[str, Any]:
    """The message's correlation property values, by property name, as a catch expects them."""
    if not isinstance(body, dict):
        return {}
    environment = workflow.script_engine.environment
    values: dict[str, Any] = {}
    for prop in definition.correlation_properties:
        try:
            values[prop.name] = environment.evaluate(prop.retrieval_expression, body)
        except ExpressionError:
            continue
    return values


def deliver(workflow: BpmnWorkflow, name: str, payload: Any) -> None:
    """Hand message ``name`` to the task waiting for it; NotWaiting if none does or correlates.

    ``payload`` is the message's body: a dict of variables, or (from a thrown
    ``camunda:expression``) any value, which a Camunda catch stores under its result variable.
    """
    for task, definition in _waiting(workflow):
        if definition.name != name:
            continue
        expected = _expected(task, definition)
        if not _correlates(workflow, definition, expected, payload):
            raise NotWaiting(f"message '{name}' with these correlation values")
        if not isinstance(payload, dict) and not isinstance(
                definition, CamundaMessageEventDefinition):
            raise NotWaiting(f"message '{name}' carrying a value instead of variables")
        event = BpmnEvent(definition, payload=_wrapped(definition, payload),
                          correlations=expected)
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            raise NotWaiting(f"message '{name}'") from exc
        return
    raise NotWaiting(f"message '{name}'")


def _wrapped(definition: MessageEventDefinition, payload: Any) -> dict[str, Any]:
    """The payload as the definition's class expects it.

    The Camunda message class stores the body under ``result_var`` (here: the message name,
    so ``bank_confirmation`` arrives as ``data["bank_confirmation"]``) and evaluates
    correlation expressions against the outer dict, which therefore repeats the body's keys.
    """
    if isinstance(definition, CamundaMessageEventDefinition):
        result_var = definition.result_var or definition.name
        variables = payload if isinstance(payload, dict) else {}
        return {**variables, "payload": payload, "result_var": result_var}
    return dict(payload)


def _correlates(workflow: BpmnWorkflow, definition: MessageEventDefinition,
                expected: dict[str, Any], payload: Any) -> bool:
    # SpiffWorkflow evaluates every correlation property over the payload when the message is
    # caught, outside its error handling: a payload that lacks one does not correlate
    environment = workflow.script_engine.environment
    for prop in definition.correlation_properties:
        if not isinstance(payload, dict):
            return False
        try:
            actual = environment.evaluate(prop.retrieval_expression, payload)
        except ExpressionError:
            return False
        if prop.name in expected and actual != expected[prop.name]:
            return False
    return True
