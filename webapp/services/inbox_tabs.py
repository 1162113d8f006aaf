"""The inbox's other tabs: 已办 (the tasks a person completed) and 抄送我 (the applications
copied to them), newest first, each with where the application stands now; and the 催办
marks (how often and when a task was urged) the 待办 tab shows beside a task.

Who sees what is the caller's part, as for the 待办 tab: ``completed_by`` and
``copied_to`` give the conditions for the signed-in person in the parks they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from webapp.models import (
    Enterprise,
    HumanTask,
    Instance,
    InstanceCopy,
    Park,
    ProcessDefinition,
    Urge,
)
from webapp.services.inbox import item
from webapp.services.queries import KeyKind, Page

DONE_KEY: tuple[KeyKind, ...] = ("time", "str")
COPIES_KEY: tuple[KeyKind, ...] = ("time", "int")

_APPLICATION = (
    Instance.reference,
    Instance.status.label("instance_status"),
    Instance.result,
    Park.slug.label("park"),
    ProcessDefinition.key.label("process_key"),
    ProcessDefinition.name.label("process_name"),
    Enterprise.name.label("enterprise_name"),
)
_TASK = (
    HumanTask.id,
    HumanTask.instance_id,
    HumanTask.element_id,
    HumanTask.name,
    HumanTask.lane,
    HumanTask.candidate_groups,
    HumanTask.candidate_users,
    HumanTask.assignee,
    HumanTask.created_at,
    HumanTask.due_at,
    HumanTask.follow_up_at,
    HumanTask.form_key,
    HumanTask.priority,
    HumanTask.status,
    HumanTask.on_behalf_of,
    HumanTask.handoff_kind,
    HumanTask.parent_id,
    HumanTask.completed_at,
    HumanTask.completed_by,
    HumanTask.outcome,
)
_OPEN_STEPS = (
    select(HumanTask.instance_id, HumanTask.id, HumanTask.element_id, HumanTask.name)
    .where(HumanTask.instance_id.in_(bindparam("ids", expanding=True)), HumanTask.status == "open")
    .order_by(HumanTask.created_at, HumanTask.id)
)


def completed_by(username: str, park_ids: Iterable[str]) -> ColumnElement[bool]:
    """The condition on ``HumanTask``: completed by ``username`` in one of the parks."""
    return and_(
        HumanTask.completed_by == username,
        HumanTask.status == "completed",
        HumanTask.park_id.in_(list(park_ids)),
    )


def copied_to(user_id: str, park_ids: Iterable[str]) -> ColumnElement[bool]:
    """The condition on ``InstanceCopy``: the person's copies in one of the parks."""
    return and_(InstanceCopy.user_id == user_id, InstanceCopy.park_id.in_(list(park_ids)))


def done_page(
    session: Session,
    condition: ColumnElement[bool],
    *,
    limit: int,
    after: tuple[Any, ...] | None,
    now: datetime,
) -> Page:
    """One page of completed tasks, the latest completed first, with each application's
    current steps."""
    stmt = _with_application(
        select(*_TASK, *_APPLICATION).select_from(HumanTask), HumanTask.instance_id
    ).where(condition)
    if after is not None:
        stmt = stmt.where(
            or_(
                HumanTask.completed_at < after[0],
                and_(HumanTask.completed_at == after[0], HumanTask.id < after[1]),
            )
        )
    rows = list(
        session.execute(
            stmt.order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    steps = _current_steps(session, [row.instance_id for row in rows])
    items = [
        {
            **item(row, now),
            "completed_at": row.completed_at,
            "completed_by": row.completed_by,
            "outcome": row.outcome,
            **_standing(row, steps),
        }
        for row in rows
    ]
    return Page(items, (rows[-1].completed_at, rows[-1].id) if more else None)


def copies_page(
    session: Session, condition: ColumnElement[bool], *, limit: int, after: tuple[Any, ...] | None
) -> Page:
    """One page of the applications copied to a person, the latest copy first."""
    stmt = _with_application(
        select(
            InstanceCopy.id,
            InstanceCopy.instance_id,
            InstanceCopy.at,
            InstanceCopy.copied_by,
            InstanceCopy.element_id,
            InstanceCopy.read_at,
            *_APPLICATION,
        ).select_from(InstanceCopy),
        InstanceCopy.instance_id,
    ).where(condition)
    if after is not None:
        stmt = stmt.where(
            or_(
                InstanceCopy.at < after[0],
                and_(InstanceCopy.at == after[0], InstanceCopy.id < after[1]),
            )
        )
    rows = list(
        session.execute(
            stmt.order_by(InstanceCopy.at.desc(), InstanceCopy.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    steps = _current_steps(session, [row.instance_id for row in rows])
    items = [
        {
            "instance_id": row.instance_id,
            "reference": row.reference,
            "park": row.park,
            "process_key": row.process_key,
            "process_name": row.process_name,
            "enterprise_name": row.enterprise_name,
            "copied_at": row.at,
            "copied_by": row.copied_by,
            "element_id": row.element_id,
            "read": row.read_at is not None,
            **_standing(row, steps),
        }
        for row in rows
    ]
    return Page(items, (rows[-1].at, rows[-1].id) if more else None)


def unread_copies(session: Session, condition: ColumnElement[bool]) -> int:
    """How many of the copies ``condition`` selects are unread."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(InstanceCopy)
            .where(condition, InstanceCopy.read_at.is_(None))
        )
        or 0
    )


def urge_marks(session: Session, task_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """For each of the tasks that was urged: how often (``count``) and when last (``last_at``)."""
    if not task_ids:
        return {}
    rows = session.execute(
        select(Urge.task_id, func.count(), func.max(Urge.at))
        .where(Urge.task_id.in_(list(task_ids)))
        .group_by(Urge.task_id)
    )
    return {task_id: {"count": int(count), "last_at": last} for task_id, count, last in rows}


def _with_application(stmt: Any, instance_id: Any) -> Any:
    return (
        stmt.join(Instance, Instance.id == instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        .join(Park, Park.id == Instance.park_id)
        .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id)
    )


def _current_steps(
    session: Session, instance_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    if instance_ids:
        for row in session.execute(_OPEN_STEPS, {"ids": list(set(instance_ids))}):
            found.setdefault(row.instance_id, []).append(
                {"task_id": row.id, "element_id": row.element_id, "name": row.name}
            )
    return found


def _standing(row: Any, steps: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "instance_status": row.instance_status,
        "result": row.result,
        "current_steps": steps.get(row.instance_id, []),
    }


__all__ = [
    "COPIES_KEY",
    "DONE_KEY",
    "completed_by",
    "copied_to",
    "copies_page",
    "done_page",
    "unread_copies",
    "urge_marks",
]
