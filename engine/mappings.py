"""Camunda variable mappings: ``camunda:inputOutput`` on activities, ``camunda:in``/``out``.

SpiffWorkflow's Camunda parser ignores both, so a task would see every variable and a called
process would get and give back everything. Parkflow reads them after parsing and runs them
at the task spec's own events, the way Camunda scopes them:

* input parameters are the activity's local variables, set when it starts (after its data is
  inherited, before it runs or is shown); output parameters are evaluated over those local
  variables when it completes and set for what follows, while the local variables go (a
  variable an input parameter hid comes back with its earlier value);
* ``camunda:in`` decides what a called process starts with and ``camunda:out`` what comes
  back; a call activity without any ``camunda:in`` (``camunda:out``) passes everything in
  (back), as SpiffWorkflow does, so diagrams deployed before keep running unchanged.

A value is text (``approved``), one expression (``${amount * 2}``, its value kept as is) or
text with expressions in it (``Dear ${name}``, a string); an empty parameter is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, NoReturn

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import CallActivity

from .bpmn_doc import bpmn, camunda
from .errors import EngineError

_SHADOWED = "pf_shadowed"  # internal data: what the input parameters hid, restored at the end
Evaluate = Callable[[str, Mapping[str, Any]], Any]


class MappingFailed(EngineError):
    """A mapping or listener could not be evaluated; the message names which one."""


@dataclass(frozen=True)
class Parameter:
    """One mapped variable: ``name`` receives ``value`` (text as written, None when empty)."""

    name: str
    value: str | None


@dataclass(frozen=True)
class CallMapping:
    """One ``camunda:in`` or ``camunda:out``: ``all`` variables, or ``target`` from a source."""

    target: str
    source: str | None = None
    expression: str | None = None
    every: bool = False


def placeholders(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every closed ``${...}`` or ``#{...}`` in ``text``, outermost only."""
    i = 0
    while i < len(text) - 1:
        if text[i] in "$#" and text[i + 1] == "{":
            depth, j = 0, i + 1
            while j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                if depth == 0:
                    yield i, j + 1
                    break
                j += 1
            i = j + 1
        else:
            i += 1


def resolve(text: str | None, variables: Mapping[str, Any], evaluate: Evaluate) -> Any:
    """The value a parameter's text stands for (see the module's docstring)."""
    if text is None or not text.strip():
        return None
    spans = list(placeholders(text))
    if not spans:
        return text
    stripped = text.strip()
    if len(spans) == 1 and text[spans[0][0] : spans[0][1]] == stripped:
        return evaluate(stripped, variables)
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], _as_text(evaluate(text[start:end], variables))]
        last = end
    return "".join([*pieces, text[last:]])


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def io_parameters(element: etree._Element, kind: str) -> tuple[Parameter, ...]:
    """The ``camunda:inputParameter`` or ``camunda:outputParameter`` list of an activity."""
    path = f"{bpmn('extensionElements')}/{camunda('inputOutput')}/{camunda(kind)}"
    return tuple(Parameter(p.get("name", ""), p.text) for p in element.iterfind(path))


def call_mappings(element: etree._Element, kind: str) -> tuple[CallMapping, ...] | None:
    """A call activity's ``camunda:in`` (``out``) list; None when it has none at all."""
    found = element.findall(f"{bpmn('extensionElements')}/{camunda(kind)}")
    mappings = tuple(
        CallMapping(
            target=m.get("target", ""),
            source=m.get("source"),
            expression=m.get("sourceExpression"),
            every=m.get("variables") == "all",
        )
        for m in found
        if m.get("businessKey") is None
    )
    return mappings if found else None


def mapped(
    mappings: tuple[CallMapping, ...], data: Mapping[str, Any], evaluate: Evaluate
) -> dict[str, Any]:
    """The variables ``mappings`` make of ``data``; a missing source variable is not set."""
    result: dict[str, Any] = {}
    for mapping in mappings:
        if mapping.every:
            result.update(deepcopy(dict(data)))
        elif mapping.expression is not None:
            result[mapping.target] = resolve(mapping.expression, data, evaluate)
        elif mapping.source is not None and mapping.source in data:
            result[mapping.target] = deepcopy(data[mapping.source])
    return result


def _evaluator(task: Any, what: str) -> Evaluate:
    environment = task.workflow.script_engine.environment

    def evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
        try:
            return environment.evaluate(expression, variables)
        except Exception as exc:  # the mapping's failure is this step's failure, not a crash
            fail(task, what, exc)

    return evaluate


def fail(task: Any, what: str, exc: Exception) -> NoReturn:
    """Leave ``task`` in error, the reason naming the mapping or listener ``what``."""
    task.error()
    failure = MappingFailed(f"{what}: {exc}")
    raise WorkflowTaskException(str(failure), task=task, exception=failure) from failure


class ParkCallActivity(CallActivity):
    """A call activity that honours ``camunda:in`` and ``camunda:out``."""

    ins: tuple[CallMapping, ...] | None = None
    outs: tuple[CallMapping, ...] | None = None

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        if self.ins is None:
            super().copy_data(my_task, subworkflow)
            return
        start = subworkflow.get_next_task(
            subworkflow.task_tree, skip_subprocesses=True, spec_name="Start"
        )
        start.set_data(**mapped(self.ins, my_task.data, _evaluator(my_task, "camunda:in")))

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        if self.outs is None:
            super().update_data(my_task, subworkflow)
            return
        evaluate = _evaluator(my_task, "camunda:out")
        my_task.data.update(mapped(self.outs, subworkflow.last_task.data, evaluate))


class LocalScope:
    """Runs an activity's input parameters when it starts and its outputs when it ends."""

    def __init__(self, inputs: tuple[Parameter, ...], outputs: tuple[Parameter, ...]) -> None:
        self.inputs = inputs
        self.outputs = outputs

    def enter(self, task: Any) -> bool:
        """Set the input parameters as the task's own variables, remembering what they hide.

        False when the task had entered already: a task may be updated more than once before
        it runs, and its scope must not take its own local variables for the outer ones.
        """
        if _SHADOWED in task.internal_data:
            return False
        outer = dict(task.data)
        values = {
            p.name: resolve(p.value, outer, _evaluator(task, f"input parameter '{p.name}'"))
            for p in self.inputs
        }
        task.internal_data[_SHADOWED] = {name: outer[name] for name in values if name in outer}
        task.data.update(values)
        return True

    def leave(self, task: Any) -> None:
        """Drop the local variables, then set the output parameters evaluated over them."""
        local = dict(task.data)
        values = {
            p.name: resolve(p.value, local, _evaluator(task, f"output parameter '{p.name}'"))
            for p in self.outputs
        }
        shadowed = task.internal_data.pop(_SHADOWED, {})
        for parameter in self.inputs:
            task.data.pop(parameter.name, None)
        task.data.update(shadowed)
        task.data.update(values)
