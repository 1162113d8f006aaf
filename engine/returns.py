"""Returning an application to an earlier step (退回), and resubmitting straight back (直达).

A return moves the token of an open user task back to an earlier user task, as if the diagram
had a sequence flow from the returning task to it: the returning task finishes without running
its outputs, a fresh task of the target is placed below it and run on like any task reached by
a loop. SpiffWorkflow's ``reset_from_task_id`` cannot do this alone: it resets a task that is
still in the tree, and Parkflow prunes finished tasks after every step (serialization.prune),
so the earlier task is usually gone. The fresh task is added under the returning one and then
reset with ``reset_from_task_id``, which readies it (pre-scripts, input mappings, boundary
events) exactly as for a task reached normally; boundary timers of the target are created anew
and its due date is computed again, since the task is new.

With 直达 (``resume_to_me``) the re-entered task remembers the returning step; when it is
completed, its outputs are dropped the same way and the token moves straight back to the
returning step, which then sees the new data.

A multi-instance step (an approval mode's 会签, 或签, ...) moves as one: a return from one
signer's task stops the whole node. The returning signer's task finishes, the other signers'
open tasks are cancelled, the node itself is cancelled without running its outputs (nor its
own completion, so no result is decided), and the target is entered below the returning
signer's task. A return into a multi-instance step, or a 直达 resubmission back to one, enters
the node afresh: SpiffWorkflow creates its instances again, one per signer as resolved now,
and nothing decided in an earlier round counts.

Only what can be moved as one path is supported: both tasks in the top-level process (not
inside a subprocess or call activity), the target upstream of the returning step, not inside
a parallel branch the returning step is not in, and no other step of the application open at
the same time (the other signers of the returning node do not count).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import approval
from .errors import CannotReturn

# on the re-entered task (or its boundary-event split): the spec to resume at when it completes
RESUME = "pf_resume"
# deeper nesting of parallel sections than this is not followed when looking for a path
_MAX_NESTING = 32


def return_problem(spec: Any, source: str, target: str) -> str | None:
    """Why the token of user task ``source`` cannot move back to ``target`` (None: it can).

    Judged on the diagram alone: see the module's docstring for what is supported.
    """
    to_spec, from_spec = _by_id(spec, target), _by_id(spec, source)
    if from_spec is None:
        return "the returning step is inside a subprocess or call activity"
    if to_spec is None:
        return (
            "it is not a step of this procedure's main process (a subprocess or call "
            "activity cannot be entered by a return)"
        )
    if not _is_user_step(spec, to_spec):
        return "it is not a user task"
    if to_spec is from_spec:
        return "it is the returning step itself"
    found = _path_nesting(entry_spec(spec, to_spec), from_spec)
    if found is None:
        return "it does not lead to the returning step in the diagram"
    if found < 0:
        return "it lies inside a parallel branch that the returning step is not in"
    return None


def _is_user_step(spec: Any, task_spec: Any) -> bool:
    """A user task, or a multi-instance step whose instances are user tasks."""
    if isinstance(task_spec, LoopTask):
        task_spec = spec.task_specs.get(task_spec.task_spec)
    return isinstance(task_spec, UserTask)


def node_of(task: Any) -> Any:
    """The task a return moves for ``task``: the multi-instance task one of whose instances
    ``task`` is (a signer's task of an approval node), else ``task`` itself."""
    parent = task.parent
    if (
        parent is not None
        and isinstance(parent.task_spec, LoopTask)
        and parent.task_spec.task_spec == task.task_spec.name
    ):
        return parent
    return task


def _by_id(spec: Any, element_id: str) -> Any:
    # a BPMN element's spec is named by its id (a multi-instance task's by the loop's)
    found = spec.task_specs.get(element_id)
    return found if found is not None and found.bpmn_id == element_id else None


def entry_spec(spec: Any, task_spec: Any) -> Any:
    """The spec that starts ``task_spec``: its boundary-event split when it has boundary events."""
    for each in spec.task_specs.values():
        if isinstance(each, BoundaryEventSplit) and task_spec in each.outputs:
            return each
    return task_spec


def _path_nesting(start: Any, goal: Any) -> int | None:
    """The least parallel nesting met on a path from ``start`` to ``goal``: negative when every
    path leaves a parallel section it did not enter (the start lies inside a branch); None
    when no path leads there."""
    best: int | None = None
    seen: set[tuple[str, int]] = set()
    stack: list[tuple[Any, int, int]] = [(start, 0, 0)]
    while stack:
        node, depth, lowest = stack.pop()
        if node is goal:
            best = lowest if best is None else max(best, lowest)
            if best >= 0:
                return best
            continue
        if (node.name, depth) in seen or abs(depth) > _MAX_NESTING:
            continue
        seen.add((node.name, depth))
        for after in node.outputs:
            entered = depth - _joins(after) if after is not goal else depth
            lowest_here = min(lowest, entered)
            stack.append((after, entered + _splits(after), lowest_here))
    return best


def _joins(node: Any) -> int:
    return 1 if _parallel(node) and len(node.inputs) > 1 else 0


def _splits(node: Any) -> int:
    return 1 if _parallel(node) and len(node.outputs) > 1 else 0


def _parallel(node: Any) -> bool:
    return isinstance(node, ParallelGateway | InclusiveGateway)


def move_back(workflow: BpmnWorkflow, task: Any, target: str, *, resume_to_me: bool) -> None:
    """Finish the open user task ``task`` without its outputs and enter ``target`` after it."""
    node = node_of(task)
    problem = return_problem(workflow.spec, node.task_spec.bpmn_id, target)
    if problem is None and task.workflow is not workflow:
        problem = "the returning step is inside a subprocess or call activity"
    if problem is None:
        others = sorted(
            {t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in _other_tokens(workflow, node)}
        )
        if others:
            problem = (
                f"other steps of the application are open at the same time "
                f"({', '.join(others)}); a return moves a single path"
            )
    if problem is not None:
        raise CannotReturn(target, problem)
    entry = entry_spec(workflow.spec, workflow.spec.task_specs[target])
    _drop_stale_join_tokens(workflow, task, _joins_from(entry, node.task_spec))
    if node is not task:
        _stop_node(node, task)
    entered = _enter_after(workflow, task, entry)
    if resume_to_me:
        entered.internal_data[RESUME] = entry_spec(workflow.spec, node.task_spec).name


def _stop_node(node: Any, task: Any) -> None:
    """Stop the multi-instance task ``node`` for a return from its instance ``task``.

    The other open instances are cancelled (SpiffWorkflow's own way, as when a completion
    condition holds); the node is cancelled without completing, so neither its completion
    listeners (an approval mode's result) nor its outputs run. ``task`` keeps the node's data
    without the collection it was gathering: the target is entered below it with what the
    node started with.
    """
    _cancel_boundary_events(node)
    for each in node.children:
        if each is not task and not each.has_state(TaskState.FINISHED_MASK):
            each.cancel()
    collection = node.task_spec.data_output
    data = dict(node.data)
    if collection is not None and collection.bpmn_id.startswith(approval.COLLECTION):
        data.pop(collection.bpmn_id, None)  # the approval node's signers, set on entering it
    task.data.clear()  # the signer's own variables stay with their step
    task.data.update(data)
    node._set_state(TaskState.CANCELLED)


def resume_point(task: Any) -> str | None:
    """The spec a completed return's re-entered task goes straight back to (直达), if any."""
    found = task.internal_data.get(RESUME)
    parent = task.parent
    if found is None and parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        found = parent.internal_data.get(RESUME)
    return str(found) if found else None


def resume(workflow: BpmnWorkflow, task: Any, spec_name: str) -> None:
    """After ``task`` ran (its outputs readied, not yet run), go to ``spec_name`` instead."""
    _enter_after(workflow, task, workflow.spec.task_specs[spec_name])


def _enter_after(workflow: BpmnWorkflow, task: Any, spec: Any) -> Any:
    """Close ``task`` and its boundary events, drop its outputs, and ready ``spec`` below it."""
    _cancel_boundary_events(task)
    task._drop_children(force=True)
    if not task.has_state(TaskState.COMPLETED):
        # a return: the task finishes without running its outputs (nothing was submitted)
        task._set_state(TaskState.COMPLETED)
    fresh = task._add_child(spec, TaskState.FUTURE)
    # the documented way to (re)start a task: data from its parent, fresh internal data
    workflow.reset_from_task_id(fresh.id)
    return fresh


def _joins_from(start: Any, goal: Any) -> set[str]:
    """Names of the joins the diagram reaches from ``start`` before ``goal``."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node is goal or node.name in seen:
            continue
        seen.add(node.name)
        if isinstance(node, UnstructuredJoin):
            found.add(node.name)
        stack.extend(node.outputs)
    return found


def _drop_stale_join_tokens(workflow: BpmnWorkflow, task: Any, joins: set[str]) -> None:
    """Drop the tokens that earlier passes left at the joins the path will reach again.

    A join counts every task of its spec in the tree; SpiffWorkflow's reset drops them with the
    rest of the earlier task's descendants. Pruning keeps them beside the path (see
    serialization._join_tokens), so without this a re-entered parallel section would find its
    other branches arrived already. A join the path passed through is among the returning
    task's ancestors and stays: later tasks descend from it, so its evaluations skip it.
    """
    if not joins:
        return
    above = {ancestor.id for ancestor in _ancestors(task)}
    stale = [
        t.id for t in workflow.tasks.values() if t.task_spec.name in joins and t.id not in above
    ]
    for task_id in stale:
        if task_id in workflow.tasks:  # not already gone with an earlier one's subtree
            workflow._remove_task(task_id)


def _ancestors(task: Any) -> Iterator[Any]:
    parent = task.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _cancel_boundary_events(task: Any) -> None:
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return
    for sibling in parent.children:
        if sibling is not task and not sibling.has_state(TaskState.FINISHED_MASK):
            sibling.cancel()  # removes a waiting timer from the event manager too


def _other_tokens(workflow: BpmnWorkflow, task: Any) -> Iterator[Any]:
    """Open work of the instance besides ``task`` (or its instances, for a multi-instance
    task) and its own boundary events."""
    parent = task.parent
    siblings = (
        set(parent._children)
        if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit)
        else set()
    )
    if isinstance(task.task_spec, LoopTask):
        siblings.update(task._children)
    for each in workflow.get_tasks(
        state=TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
    ):
        spec = each.task_spec
        if each is task or each.id in siblings or each.workflow is not workflow:
            continue
        if not spec.bpmn_id:
            continue  # the engine's own joins: an ended side path waiting for the main one
        if each.has_state(TaskState.STARTED) or (
            isinstance(spec, CatchingEvent) and isinstance(spec, StartEvent)
        ):
            continue  # a running subprocess's own task; an event subprocess waiting to start
        if (
            each.has_state(TaskState.READY)
            and not spec.manual
            and not isinstance(spec, CatchingEvent)
        ):
            continue  # engine work that runs on by itself
        yield each
