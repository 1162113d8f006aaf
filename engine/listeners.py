"""Execution and task listeners, and attaching every Camunda extension that runs at a task.

Parkflow runs the listener bodies it can run safely: a Python ``camunda:script`` (in the
script sandbox, like a script task) and an expression that sets a variable,
``${execution.setVariable("name", value)}`` (``task.`` in a task listener), evaluated by the
allow-list evaluator. Deploy refuses every other body (see ``validation_mappings``).

The order is Camunda's: when an activity starts, its input parameters, then its ``start``
execution listeners, then (a user task) its ``create`` task listeners; when it completes, its
``complete`` task listeners, its ``end`` execution listeners, then its output parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .bpmn_doc import bpmn, camunda
from .mappings import LocalScope, ParkCallActivity, call_mappings, fail, io_parameters
from .services import ParkSendTask

SET_VARIABLE = re.compile(
    r"\s*[$#]\{\s*(?:execution|task)\.setVariable\(\s*(['\"])(?P<name>[A-Za-z_]\w*)\1\s*,"
    r"(?P<value>.*)\)\s*\}\s*",
    re.DOTALL,
)
STARTING = {"executionListener": "start", "taskListener": "create"}
ENDING = {"taskListener": "complete", "executionListener": "end"}


@dataclass(frozen=True)
class Listener:
    """A runnable listener: a Python ``script``, or ``variable`` set to ``expression``."""

    script: str | None = None
    variable: str | None = None
    expression: str | None = None


def listener_body(element: etree._Element) -> Listener | None:
    """What a listener runs, or None when Parkflow cannot run it."""
    script = element.find(camunda("script"))
    if script is not None:
        return Listener(script=script.text or "")
    match = SET_VARIABLE.fullmatch(element.get("expression") or "")
    if match is None:
        return None
    return Listener(variable=match["name"], expression="${" + match["value"].strip() + "}")


def listeners(element: etree._Element, kind: str, event: str) -> tuple[Listener, ...]:
    """The runnable ``kind`` listeners (``executionListener``…) of ``element`` for ``event``."""
    path = f"{bpmn('extensionElements')}/{camunda(kind)}"
    found = (listener_body(each) for each in element.iterfind(path) if each.get("event") == event)
    return tuple(body for body in found if body is not None)


def _run(task: Any, listener: Listener) -> None:
    engine = task.workflow.script_engine
    if listener.script is not None:
        engine.execute(task, listener.script)  # wraps a failure with the task, as scripts do
        return
    try:
        value = engine.environment.evaluate(listener.expression, task.data)
    except Exception as exc:  # the listener's failure is this step's failure, not a crash
        fail(task, f"listener setting '{listener.variable}'", exc)
    task.data[str(listener.variable)] = value


class TaskHooks:
    """Everything an activity runs when it starts and when it completes."""

    def __init__(self, element: etree._Element) -> None:
        self.scope = LocalScope(
            io_parameters(element, "inputParameter"), io_parameters(element, "outputParameter")
        )
        self.starting = [
            body for kind, event in STARTING.items() for body in listeners(element, kind, event)
        ]
        self.ending = [
            body for kind, event in ENDING.items() for body in listeners(element, kind, event)
        ]

    def any(self) -> bool:
        return bool(self.scope.inputs or self.scope.outputs or self.starting or self.ending)

    def started(self, workflow: Any, task: Any) -> None:
        if not self.scope.enter(task):
            return
        for listener in self.starting:
            _run(task, listener)

    def completed(self, workflow: Any, task: Any) -> None:
        for listener in self.ending:
            _run(task, listener)
        self.scope.leave(task)


def attach_hooks(spec: Any, documents: Iterable[etree._Element]) -> None:
    """Wire the mappings and listeners drawn in ``documents`` onto the task specs of ``spec``.

    The task spec's own ``update_event`` (its data inherited, before it is ready) and
    ``completed_event`` (before the next tasks inherit its data) carry them.
    """
    elements: dict[str, etree._Element] = {}
    for document in documents:
        for element in document.iter():
            element_id = element.get("id") if isinstance(element.tag, str) else None
            if element_id:
                elements.setdefault(element_id, element)
    for task_spec in spec.task_specs.values():
        element = elements.get(task_spec.name)
        if element is None:
            continue
        if isinstance(task_spec, ParkCallActivity):
            task_spec.ins = call_mappings(element, "in")
            task_spec.outs = call_mappings(element, "out")
        hooks = TaskHooks(element)
        if isinstance(task_spec, ParkSendTask):
            task_spec.payload_names = tuple(p.name for p in hooks.scope.inputs)
        if hooks.any():
            task_spec.update_event.connect(hooks.started)
            task_spec.completed_event.connect(hooks.completed)
