"""Queueing a user task's automatic rules (``camunda:properties``) as the task opens.

When a task with rules opens, ``rule_jobs`` queues its jobs with the step's other rows: one
due at once for ``emptyAssignee`` / ``selfApproval``, one at the task's due date for
``timeoutAction``. Tasks without rules cost nothing more than a look at their properties.
What the jobs do is in ``webapp.services.taskrule_actions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from engine import (
    EMPTY_ASSIGNEE,
    SELF_APPROVAL,
    TIMEOUT_ACTION,
    OpenTask,
    Snapshot,
    has_rules,
    timeout_action,
)
from webapp.models import Instance
from webapp.services import jobs

RULES_JOB, TIMEOUT_JOB = "task_rules", "task_timeout"
RULE_KINDS = (RULES_JOB, TIMEOUT_JOB)


def rule_jobs(
    instance: Instance, snapshot: Snapshot, opened: Iterable[str], now: datetime
) -> list[dict[str, Any]]:
    """The jobs of the rules of the tasks that just opened (``opened``: their ids)."""
    new = set(opened)
    found: list[dict[str, Any]] = []
    for task in snapshot.open_tasks:
        if task.task_id in new and has_rules(task.properties):
            found += _jobs_of(instance, task, now)
    return found


def _jobs_of(instance: Instance, task: OpenTask, now: datetime) -> list[dict[str, Any]]:
    found = []
    if EMPTY_ASSIGNEE in task.properties or SELF_APPROVAL in task.properties:
        found.append(
            jobs.job_row(
                kind=RULES_JOB,
                park_id=instance.park_id,
                due_at=now,
                instance_id=instance.id,
                task_id=task.task_id,
                dedupe_key=f"{RULES_JOB}:{task.task_id}",
            )
        )
    if timeout_action(task.properties.get(TIMEOUT_ACTION)) and task.due_at is not None:
        found.append(
            jobs.job_row(
                kind=TIMEOUT_JOB,
                park_id=instance.park_id,
                due_at=task.due_at,
                instance_id=instance.id,
                task_id=task.task_id,
                payload={"count": 0},
                dedupe_key=f"{TIMEOUT_JOB}:{task.task_id}",
            )
        )
    return found
