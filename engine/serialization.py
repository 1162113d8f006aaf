"""Instance state as compact JSON: no spec inside, completed history pruned away.

Two things keep a long-lived instance cheap and alive:

* The spec is never serialized; it is re-attached from the per-version cache on load.
* Finished tasks that nothing still depends on are pruned from the task tree after every state
  change. SpiffWorkflow keeps every finished task, so a return-for-correction loop deepens the
  tree by a few tasks per round; at a depth of 1,000 its task iterator silently stops finding
  tasks and the instance stalls. After pruning, the tree holds the unfinished and the failed
  tasks, their immediate parents, the points where their paths part, and the root; the
  finished steps live in the step-history table instead (see engine/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError

FORMAT = "parkflow-1"
SPIFF_VERSION = "1.5"


class StateCorrupt(EngineError):
    """A stored state cannot be read back."""


class _LeanWorkflowConverter(BpmnWorkflowConverter):
    """Workflow converter that leaves the specs out; they come from the spec cache."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict[str, Any], spec: Any, subprocess_specs: Any,
                script_engine: Any) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine,
                                deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


_CAMUNDA_MULTI_INSTANCE = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)
_REGISTRY = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
_CONVERTER = _LeanWorkflowConverter(BpmnWorkflow, _REGISTRY)


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """Serialize an instance (pruned, without its spec) to JSON bytes."""
    _REGISTRY._encoder_mode = True
    try:
        dct = _CONVERTER.to_dict(workflow)
    finally:
        _REGISTRY._encoder_mode = False
    dct["format"] = FORMAT
    dct[BpmnWorkflowSerializer.VERSION_KEY] = SPIFF_VERSION
    return orjson.dumps(dct, default=_REGISTRY.convert)


def load_state(state: bytes, spec: Any, subprocess_specs: Any, script_engine: Any) -> BpmnWorkflow:
    """Rebuild an instance from ``dump_state`` output and its cached spec."""
    try:
        dct = orjson.loads(state)
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, SPIFF_VERSION)
        if dct.pop("format", None) != FORMAT:
            raise StateCorrupt("not a Parkflow instance state")
        if version != SPIFF_VERSION and version in MIGRATIONS:
            MIGRATIONS[version](dct)
        workflow = _CONVERTER.restore(dct, spec, subprocess_specs, script_engine)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateCorrupt(f"instance state cannot be read: {exc}") from exc
    for each in (spec, *subprocess_specs.values()):
        _restore_loop_wiring(each)
    return workflow


def _restore_loop_wiring(spec: Any) -> None:
    """Give loop and multi-instance specs what SpiffWorkflow sets on them only at run time.

    Two things are attached to the shared spec when a loop task starts, not when it is parsed,
    so a spec parsed by this process after the loop started (another worker, a restarted web
    process) lacks them:

    * the listener through which the loop hears that one of its instances completed; without
      it the loop waits for its instances forever;
    * for a Camunda ``camunda:collection``, the collection as the loop's input and the element
      variable as its input item; without them each finished instance appends its element
      to the collection instead of writing it back in place.
    """
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, LoopTask):
            continue
        child_spec = spec.task_specs[task_spec.task_spec]
        if not child_spec.completed_event.is_connected(task_spec.merge_child):
            child_spec.completed_event.connect(task_spec.merge_child)
        if (isinstance(task_spec, _CAMUNDA_MULTI_INSTANCE) and task_spec.cardinality is None
                and task_spec.data_input is None and task_spec.data_output is not None
                and task_spec.output_item is not None):
            task_spec.data_input = TaskDataReference(task_spec.data_output.bpmn_id)
            task_spec.input_item = TaskDataReference(task_spec.output_item.bpmn_id)


def prune(workflow: BpmnWorkflow) -> int:
    """Drop finished tasks nothing depends on, in the workflow and its subprocesses.

    Returns how many tasks were removed.
    """
    removed = _prune_tree(workflow)
    for sub in list(workflow.subprocesses.values()):
        removed += _prune_tree(sub)
    alive = {task_id for task_id in workflow.tasks}
    for sub in workflow.subprocesses.values():
        alive.update(sub.tasks)
    for parent_id in [pid for pid in workflow.subprocesses if pid not in alive]:
        del workflow.subprocesses[parent_id]
    return removed


def _prune_tree(workflow: Any) -> int:
    tasks: dict[UUID, Any] = workflow.tasks
    root = workflow.task_tree
    # a failed task waits for a retry just as an unfinished one waits to run
    active = [t for t in tasks.values() if t.has_state(TaskState.DEFINITE_MASK | TaskState.ERROR)]
    if not active:
        return 0
    keep = {root.id}
    for task in active:
        keep.update(_descendants(task, tasks))
        if task._parent is not None:
            keep.add(task._parent)
    keep.update(_branch_points(active, tasks))
    if len(keep) == len(tasks):
        return 0
    _relink(keep, tasks)
    removed = [task_id for task_id in tasks if task_id not in keep]
    for task_id in removed:
        del tasks[task_id]
    _reorder(workflow, root)
    if workflow.last_task is not None and workflow.last_task.id not in tasks:
        workflow.last_task = None
    return len(removed)


def _branch_points(active: list[Any], tasks: dict[UUID, Any]) -> set[UUID]:
    """Ancestors where the paths of two unfinished tasks part: parallel splits and the like."""
    reached_via: dict[UUID, set[UUID]] = {}
    for task in active:
        child = task.id
        parent = task._parent
        while parent is not None:
            reached_via.setdefault(parent, set()).add(child)
            child, parent = parent, tasks[parent]._parent
    return {node for node, via in reached_via.items() if len(via) > 1}


def _descendants(task: Any, tasks: dict[UUID, Any]) -> Iterable[UUID]:
    stack = [task.id]
    while stack:
        task_id = stack.pop()
        yield task_id
        stack.extend(tasks[task_id]._children)


def _relink(keep: set[UUID], tasks: dict[UUID, Any]) -> None:
    """Hang every kept task under its nearest kept ancestor, preserving child order."""
    new_parent: dict[UUID, UUID | None] = {}
    for task_id in keep:
        parent = tasks[task_id]._parent
        while parent is not None and parent not in keep:
            parent = tasks[parent]._parent
        new_parent[task_id] = parent
    order = {task_id: index for index, task_id in enumerate(tasks)}
    children: dict[UUID, list[UUID]] = {task_id: [] for task_id in keep}
    for task_id in sorted(keep, key=order.__getitem__):
        parent = new_parent[task_id]
        if parent is not None:
            children[parent].append(task_id)
    for task_id in keep:
        tasks[task_id]._parent = new_parent[task_id]
        tasks[task_id]._children = children[task_id]


def _reorder(workflow: Any, root: Any) -> None:
    """Parents before children: restoring task data deltas needs the parent first."""
    ordered: dict[UUID, Any] = {}
    stack = [root.id]
    while stack:
        task_id = stack.pop()
        ordered[task_id] = workflow.tasks[task_id]
        stack.extend(reversed(workflow.tasks[task_id]._children))
    workflow.tasks = ordered
