"""Event subprocesses that a message, signal, error or escalation starts.

SpiffWorkflow wires such an event subprocess into its process spec (the start task gains it
as an output, and it gains the process's end) the first time one starts, in the spec object
itself. Parkflow shares one parsed spec among all instances of a version, so that wiring would
leak from the first instance that started the subprocess into every later one, which would
then run otherwise than SpiffWorkflow does on a freshly parsed spec (the end join would follow
the event subprocess and take its data). A version with such subprocesses therefore runs each
call on a private copy of its specs, wired as this instance's own history wired it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow


def has_triggered_subprocesses(spec: Any, subprocess_specs: Mapping[str, Any]) -> bool:
    """Whether any process of the version has an event subprocess started by an event."""
    return any(each.start.trigger_specs for each in (spec, *subprocess_specs.values()))


def private_specs(spec: Any, subprocess_specs: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A copy of the specs, for one call to change as it runs."""
    return copy.deepcopy((spec, dict(subprocess_specs)))


def rewire_started(workflow: BpmnWorkflow) -> None:
    """Wire the event subprocesses this instance started, as starting them wired them."""
    for each in (workflow, *workflow.subprocesses.values()):
        start = each.spec.start
        for child in each.task_tree.children:
            started = child.task_spec
            if started.name in start.trigger_specs and start not in started.inputs:
                start.connect(started)
                started.connect(each.spec.end)


__all__ = ["has_triggered_subprocesses", "private_specs", "rewire_started"]
