"""批量同意: completing many tasks with one decision, each in a transaction of its own.

Only tasks whose element says so in the diagram (``camunda:properties`` ``batchApprove=true``,
handed over by the engine with the task's other properties) may be completed in a batch. One
task that fails (no longer open, not the caller's, not batchable, data its form refuses) is
reported and stops none of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db import Database
from webapp.models import HumanTask, Instance, Park, ProcessDefinition
from webapp.services import applications
from webapp.services.engines import version_of
from webapp.services.errors import Invalid, ServiceError
from webapp.services.people import Worker

BATCH_PROPERTY = "batchApprove"
MAX_BATCH = 100


def batchable(instance: Instance, element_id: str) -> bool:
    """Whether the diagram lets tasks of ``element_id`` be completed in a batch."""
    human = version_of(instance.definition).human_tasks.get(element_id)
    return human is not None and _says_batch(human.properties.get(BATCH_PROPERTY))


def batchable_ids(session: Session, task_ids: Sequence[str]) -> set[str]:
    """Which of the tasks may be approved in a batch (for the inbox's check boxes)."""
    if not task_ids:
        return set()
    rows = session.execute(select(HumanTask.id, HumanTask.element_id, Instance.definition_id)
                           .join(Instance, Instance.id == HumanTask.instance_id)
                           .where(HumanTask.id.in_(list(task_ids))))
    found = set()
    for task_id, element_id, definition_id in rows:
        definition = session.get(ProcessDefinition, definition_id)
        human = version_of(definition).human_tasks.get(element_id) if definition else None
        if human is not None and _says_batch(human.properties.get(BATCH_PROPERTY)):
            found.add(task_id)
    return found


def _says_batch(value: str | None) -> bool:
    return str(value or "").strip().lower() == "true"


def batch_complete(
    db: Database,
    *,
    task_ids: Sequence[str],
    data: Mapping[str, Any],
    actor: str,
    comment: str | None = None,
    check: Callable[[Session, HumanTask], object] | None = None,
    known_as: Callable[[Park], Worker | None] | None = None,
) -> list[dict[str, Any]]:
    """Complete each of ``task_ids`` with ``data``; one result per task, in the given order.

    ``check`` is the caller's visibility rule, run in each task's transaction.
    """
    if len(task_ids) > MAX_BATCH:
        raise Invalid(
            f"at most {MAX_BATCH} tasks at once",
            details={"task_ids": [f"holds more than {MAX_BATCH} tasks"]},
        )

    def allowed(session: Session, task: HumanTask) -> None:
        if check is not None:
            check(session, task)
        if not batchable(task.instance, task.element_id):
            raise Invalid(
                f"“{task.name}” cannot be approved in a batch: open it and decide",
                details={"task_id": ["does not allow batch approval"]},
            )

    results = []
    for task_id in dict.fromkeys(task_ids):
        try:
            applications.complete_task(
                db,
                task_id=task_id,
                data=data,
                actor=actor,
                check=allowed,
                known_as=known_as,
                audit_details={"batch": True, "comment": comment},
            )
        except ServiceError as exc:
            results.append(
                {"task_id": task_id, "status": "failed", "code": exc.code, "error": exc.message}
            )
        else:
            results.append({"task_id": task_id, "status": "completed", "code": None, "error": None})
    return results
