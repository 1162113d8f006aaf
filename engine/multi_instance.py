"""Multi-instance tasks over a ``camunda:collection`` that the instance never set.

SpiffWorkflow's parallel multi-instance iterates over whatever the collection variable holds
and fails with a bare ``TypeError`` when there is none, from inside the step *before* it,
which would leave the caller with a crash instead of an instance in error. Each such task
spec gets a listener on its ``update_event`` (emitted once the task has its data, before its
instances are created) that stops the instance at this task, naming the variable.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState


def require_collections(spec: Any) -> None:
    """Make every collection-driven multi-instance task of ``spec`` check its collection."""
    for task_spec in spec.task_specs.values():
        if (
            isinstance(task_spec, ParallelMultiInstanceTask | SequentialMultiInstanceTask)
            and task_spec.cardinality is None
            and task_spec.data_output is not None
            and not task_spec.update_event.is_connected(_check_collection)
        ):
            task_spec.update_event.connect(_check_collection)


def _check_collection(workflow: Any, task: Any) -> None:
    name = task.task_spec.data_output.bpmn_id
    if name in task.data:
        return
    message = (
        f"the collection '{name}' this multi-instance task runs over is not set: "
        "no variable of that name reached it"
    )
    # left in error, so the instance reports it (the engine records the reason with it)
    task._set_state(TaskState.ERROR)
    raise WorkflowDataException(message, task)
