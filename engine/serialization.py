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

import functools
from collections.abc import Iterable, Mapping
from copy import copy
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError

FORMAT = "parkflow-1"
SPIFF_VERSION = "1.5"


class StateCorrupt(EngineError):
    """A stored state cannot be read back."""


@functools.lru_cache(maxsize=4096)
def _uuid(text: str) -> UUID:
    """A task id read from a state, remembered.

    A state names every task id three or four times (as a key, the task's own id, its parent,
    a child), and the next call on the same instance reads the same ids again; parsing one
    costs more than a microsecond. UUIDs are immutable, so one object can serve every reader.
    """
    return UUID(text)


def _text(task_id: UUID) -> str:
    """A task id as written to a state, remembered (see `_uuid`)."""
    # keyed by the number: a UUID hashes and compares in Python code, an int in C
    return _text_of(task_id.int)


@functools.lru_cache(maxsize=4096)
def _text_of(number: int) -> str:
    digits = f"{number:032x}"  # as UUID.__str__ writes it
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's task converter, reading and writing the same format, cheaper per task.

    Each id is converted once (`_uuid`, `_text`), decoded data is searched for registered
    objects only where one can be (`_restored`), and a child's inherited data is copied in
    one pass (`_inherited`). tests/engine/test_step_internals.py holds it to SpiffWorkflow's.
    """

    def to_dict(self, task: Task) -> dict[str, Any]:
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            # the data as a delta against the parent's, as SpiffWorkflow writes it
            data, delta = {}, {
                "updates": DeepMerge.get_updated_keys(parent.data, task.data),
                "deletions": DeepMerge.get_deleted_keys(parent.data, task.data),
            }
        return {
            "id": _text(task.id),
            "parent": _text(task._parent) if parent is not None else None,
            "children": [_text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Task:
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task: Task = self.target_class(workflow, task_spec, state=dct["state"],
                                       id=_uuid(dct["id"]))
        task._parent = _uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = _restored(self.registry, dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = task.parent
        if delta and parent is not None:
            data = _inherited(parent.data)
            data.update(_restored(self.registry, delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                data.pop(key, None)
        else:
            data = _restored(self.registry, dct["data"])
        task.data = data
        return task


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _restored(registry: Any, value: Any) -> Any:
    """``registry.restore`` for what orjson decoded, without a call per string and number.

    Registered objects (a datetime, a Decimal, ...) are stored as dicts with a ``typename``;
    only dicts and lists can hold one.
    """
    if type(value) is dict:
        if "typename" in value:
            return registry.restore(value)
        return {key: item if type(item) in _PLAIN else _restored(registry, item)
                for key, item in value.items()}
    if type(value) is list:
        return [item if type(item) in _PLAIN else _restored(registry, item) for item in value]
    return value


def _inherited(data: Mapping[str, Any]) -> dict[str, Any]:
    """A child's copy of its parent's data: ``DeepMerge.merge({}, data)``, in one pass.

    Merging into an empty dict copies each value, mutable ones one level deep.
    """
    return {key: copy(value) if isinstance(value, (dict, list, set)) else value
            for key, value in data.items()}


class _LeanWorkflowConverter(BpmnWorkflowConverter):
    """Workflow converter that leaves the specs out; they come from the spec cache."""

    def mapping_to_dict(self, mapping: Mapping[Any, Any], **kwargs: Any) -> dict[str, Any]:
        # used here for the task and subprocess maps only, both keyed by task id
        return {_text(key): self.registry.convert(value, **kwargs)
                for key, value in mapping.items()}

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict[str, Any], spec: Any, subprocess_specs: Any,
                script_engine: Any) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine,
                                deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


_CAMUNDA_MULTI_INSTANCE = (ParallelMultiInstanceTask, SequentialMultiInstanceTask)
_REGISTRY = BpmnWorkflowSerializer.configure({**CAMUNDA_CONFIG, Task: _TaskConverter})
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
    if not workflow.subprocesses:
        return removed
    for sub in list(workflow.subprocesses.values()):
        removed += _prune_tree(sub)
    alive = {task_id for task_id in workflow.tasks}
    for sub in workflow.subprocesses.values():
        alive.update(sub.tasks)
    for parent_id in [pid for pid in workflow.subprocesses if pid not in alive]:
        del workflow.subprocesses[parent_id]
    return removed


def _prune_tree(workflow: Any) -> int:
    # Works on Task objects, which hash by identity in C; their UUIDs hash in Python code, and
    # the walks below would hash them a hundred times per step.
    tasks: dict[UUID, Any] = workflow.tasks
    root = workflow.task_tree
    # a failed task waits for a retry just as an unfinished one waits to run
    active = [t for t in tasks.values() if t.has_state(TaskState.DEFINITE_MASK | TaskState.ERROR)]
    if not active:
        return 0
    parent_of = {t: tasks[t._parent] if t._parent is not None else None for t in tasks.values()}
    below: set[Any] = set()
    keep = {root}
    for task in active:
        if task not in below:  # else its whole subtree is in already
            below.update(_descendants(task, tasks))
        parent = parent_of[task]
        if parent is not None:
            keep.add(parent)
    keep |= below
    common = _common_ancestors(active, parent_of)
    keep |= _branch_points(active, parent_of)
    keep |= _join_tokens(tasks.values(), parent_of, common)
    keep |= _looked_up_ancestors(workflow, active, parent_of, tasks)
    if len(keep) == len(tasks):
        return 0
    _relink(keep, root, tasks)
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return len(tasks) - len(keep)


def _common_ancestors(active: list[Any], parent_of: Mapping[Any, Any]) -> set[Any]:
    """The tasks above every unfinished task: every task created later is below them too."""
    first, *rest = active
    common = set(_ancestors(first, parent_of))
    for task in rest:
        common.intersection_update(_ancestors(task, parent_of))
    return common


def _ancestors(task: Any, parent_of: Mapping[Any, Any]) -> Iterable[Any]:
    parent = parent_of[task]
    while parent is not None:
        yield parent
        parent = parent_of[parent]


def _looked_up_ancestors(workflow: Any, active: list[Any], parent_of: Mapping[Any, Any],
                         tasks: dict[UUID, Any]) -> set[Any]:
    """Ancestors a join finds by walking up from an unfinished task, and what it reads there.

    A parallel join that is part of a loop walks up from a task of a later round until it
    meets a task of one of its inputs: the nearest task of each input spec above an unfinished
    task is where such a walk can stop (it passes a farther one only when that spec no longer
    counts). A boundary or start-event join looks for its split by name above itself and reads
    the split's children.
    """
    inputs, splits = _looked_up_specs(workflow.spec)
    if not inputs and not splits:
        return set()
    found: set[Any] = set()
    for task in active:
        seen: set[str] = set()
        for ancestor in _ancestors(task, parent_of):
            name = ancestor.task_spec.name
            if name in seen or (name not in inputs and name not in splits):
                continue
            seen.add(name)
            found.add(ancestor)
            if name in splits:
                found.update(tasks[child] for child in ancestor._children)
    return found


def _looked_up_specs(spec: Any) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the specs that joins of ``spec`` look up among ancestors (see above)."""
    inputs: set[str] = set()
    splits: set[str] = set()
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, ParallelGateway):
            inputs.update(each.name for each in task_spec.inputs)
        elif isinstance(task_spec, Join) and task_spec.split_task:
            splits.add(task_spec.split_task)
    return frozenset(inputs), frozenset(splits)


def _join_tokens(tasks: Iterable[Any], parent_of: Mapping[Any, Any],
                 common: set[Any]) -> set[Any]:
    """Finished join tasks a join may still consult, with the parents it reads them through.

    A parallel or inclusive join decides whether to fire by looking at every task of its spec
    in the tree, finished ones included, and at their parents: a token that arrived earlier
    and was cancelled when the next one came in still counts as that input's arrival, and its
    parent's data is merged when the join fires. Such tasks hang off to the side, never above
    the unfinished ones, so keeping them does not deepen the tree. A parallel join's task above
    every unfinished one (one that fired) is skipped by every later evaluation of that join,
    since each later task descends from it; an inclusive join stops its search there instead,
    so it is kept as well.
    """
    found: set[Any] = set()
    for task in tasks:
        spec = task.task_spec
        if not isinstance(spec, UnstructuredJoin):
            continue
        if isinstance(spec, ParallelGateway) and task in common:
            continue
        found.add(task)
        parent = parent_of[task]
        if parent is not None:
            found.add(parent)
    return found


def _branch_points(active: list[Any], parent_of: Mapping[Any, Any]) -> set[Any]:
    """Ancestors where the paths of two unfinished tasks part: parallel splits and the like."""
    reached_via: dict[Any, set[Any]] = {}
    for task in active:
        child, parent = task, parent_of[task]
        while parent is not None:
            via = reached_via.setdefault(parent, set())
            if child in via:
                break  # the path from here up is recorded already
            via.add(child)
            child, parent = parent, parent_of[parent]
    return {node for node, via in reached_via.items() if len(via) > 1}


def _descendants(task: Any, tasks: dict[UUID, Any]) -> Iterable[Any]:
    stack = [task]
    while stack:
        task = stack.pop()
        yield task
        stack.extend(tasks[child] for child in task._children)


def _relink(keep: set[Any], root: Any, tasks: dict[UUID, Any]) -> None:
    """Hang every kept task under its nearest kept ancestor; drop the others from the map.

    Children keep the order of a depth-first walk of the whole tree, the order in which
    SpiffWorkflow finds and runs ready tasks. The map keeps its own order, the order the tasks
    were created in: SpiffWorkflow iterates it where it breaks ties (a join merges its tokens'
    data by the time they changed state), and restoring task data deltas needs each parent
    before its children, which creation order gives.
    """
    children: dict[Any, list[Any]] = {task: [] for task in keep}
    # (task, its nearest kept ancestor) in depth-first order over the whole tree
    stack: list[tuple[Any, Any]] = [(root, None)]
    while stack:
        task, kept_above = stack.pop()
        if task in keep:
            if kept_above is not None:
                children[kept_above].append(task)
            kept_above = task
        stack.extend((tasks[child], kept_above) for child in reversed(task._children))
    for task in keep:
        task._children = [child.id for child in children[task]]
        for child in children[task]:
            child._parent = task.id
    for task_id in [task_id for task_id, task in tasks.items() if task not in keep]:
        del tasks[task_id]
