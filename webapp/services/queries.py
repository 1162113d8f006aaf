"""Read-side queries: the instance view, the inbox and the lists, as plain dicts.

Nothing here decides who may see what: callers pass the visibility condition (see
``webapp.api.scoping``) and get back pages in the list's order. Every list is paged by keyset:
``after`` is the sort key of the last item already served, ``Page.next_key`` the one to ask
for next (None on the last page).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, defer, selectinload

from webapp.models import (
    AuditEvent,
    HumanTask,
    Instance,
    Notification,
    Park,
    ProcessDefinition,
)
from webapp.models.tasks import is_overdue
from webapp.services import (
    approval_modes,
    handoffs,
    history,
    prediction,
    resubmission,
    returns,
    taskforms,
)
from webapp.services.people import waits_for_applicant
from webapp.statements import Prepared, rows_of

KeyKind = Literal["time", "str", "int"]
INSTANCE_KEY: tuple[KeyKind, ...] = ("time", "str")
AUDIT_KEY: tuple[KeyKind, ...] = ("time", "int")
INBOX_KEY: tuple[KeyKind, ...] = ("time", "time", "str")
PROCESS_KEY: tuple[KeyKind, ...] = ("time", "str")
NOTIFICATION_KEY: tuple[KeyKind, ...] = ("time", "int")
HISTORY_KEY: tuple[KeyKind, ...] = ("int",)


@dataclass(frozen=True)
class Page:
    """One page of a list and the sort key that continues it."""

    items: list[dict[str, Any]]
    next_key: tuple[Any, ...] | None


def _after(columns: Sequence[Any], key: Sequence[Any], *, descending: bool) -> ColumnElement[bool]:
    """Rows strictly past ``key`` in the lexicographic order of ``columns``."""
    clause: ColumnElement[bool] | None = None
    for column, value in reversed(list(zip(columns, key, strict=True))):
        beyond = column < value if descending else column > value
        clause = beyond if clause is None else or_(beyond, and_(column == value, clause))
    assert clause is not None
    return clause


def _page(session: Session, stmt: Select[Any], columns: Sequence[Any], *, limit: int,
          after: tuple[Any, ...] | None, descending: bool,
          key_of: Callable[[Any], tuple[Any, ...]],
          render: Callable[[Sequence[Any]], list[dict[str, Any]]]) -> Page:
    if after is not None:
        stmt = stmt.where(_after(columns, after, descending=descending))
    order = [column.desc() if descending else column.asc() for column in columns]
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(render(rows), key_of(rows[-1]) if more else None)


# --- instances ---------------------------------------------------------------------------


def instance_view(session: Session, instance: Instance, *, now: datetime | None = None
                  ) -> dict[str, Any]:
    """The view of one application: where it stands, who holds it, its latest steps and
    where the rest of them are read (``history_next``, None when there are no more)."""
    when = now or datetime.now(UTC)
    [steps] = rows_of(session.connection(), (_OPEN_STEPS_OF, {"instance_id": instance.id}))
    view = _summary(instance, [_current_step(task, when) for task in steps])
    expected = prediction.predict(session, instance,
                                  [(task.element_id, task.created_at) for task in steps], when)
    view["predicted_at"] = expected.at if expected is not None else None
    view["prediction_basis"] = ({"applications": expected.count, "since": expected.since}
                                if expected is not None else None)
    latest = history.recent(session, instance.id)
    view["history"] = latest.entries
    view["history_next"] = history.history_path(instance.id) if latest.earlier else None
    return view


def step_history(session: Session, instance_id: str, *, limit: int,
                 after: tuple[Any, ...] | None) -> Page:
    """Every step taken in one application, oldest first."""
    items, next_key = history.page(session, instance_id, limit=limit, after=after)
    return Page(items, next_key)


def list_instances(session: Session, visible: ColumnElement[bool], *, status: str | None,
                   process_key: str | None, limit: int, after: tuple[Any, ...] | None,
                   result: str | None = None) -> Page:
    """Applications matching ``visible`` and the filters, newest first (no history)."""
    # not the applications' states: kilobytes each, and a summary shows nothing of them
    stmt = select(Instance).where(visible).options(defer(Instance.state), *_instance_loads())
    if status is not None:
        stmt = stmt.where(Instance.status == status)
    if result is not None:
        stmt = stmt.where(Instance.result == result)
    if process_key is not None:
        stmt = stmt.join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        stmt = stmt.where(ProcessDefinition.key == process_key)
    now = datetime.now(UTC)
    return _page(session, stmt, [Instance.started_at, Instance.id], limit=limit, after=after,
                 descending=True, key_of=lambda row: (row.started_at, row.id),
                 render=lambda rows: _summaries(session, rows, now))


def _instance_loads() -> list[Any]:
    return [selectinload(Instance.park), selectinload(Instance.definition),
            selectinload(Instance.enterprise)]


# what the views show of tasks and steps, read as plain rows: built once, no objects to track
_STEP_COLUMNS = (HumanTask.instance_id, HumanTask.id, HumanTask.element_id, HumanTask.name,
                 HumanTask.lane, HumanTask.candidate_groups, HumanTask.assignee,
                 HumanTask.due_at, HumanTask.status, HumanTask.created_at)
_OPEN_STEPS = (
    select(*_STEP_COLUMNS)
    .where(HumanTask.instance_id.in_(bindparam("ids", expanding=True)),
           HumanTask.status == "open")
    .order_by(HumanTask.created_at, HumanTask.id))
_OPEN_STEPS_OF = Prepared(
    select(*_STEP_COLUMNS)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "open")
    .order_by(HumanTask.created_at, HumanTask.id))


def _summaries(session: Session, instances: Sequence[Instance], now: datetime
               ) -> list[dict[str, Any]]:
    ids = [instance.id for instance in instances]
    steps: dict[str, list[dict[str, Any]]] = {instance_id: [] for instance_id in ids}
    if ids:
        for task in session.connection().execute(_OPEN_STEPS, {"ids": ids}):
            steps[task.instance_id].append(_current_step(task, now))
    return [_summary(instance, steps[instance.id]) for instance in instances]


def _summary(instance: Instance, current_steps: list[dict[str, Any]]) -> dict[str, Any]:
    enterprise = instance.enterprise
    return {
        "id": instance.id,
        "reference": instance.reference,
        "park": instance.park.slug,
        "process_key": instance.definition.key,
        "process_name": instance.definition.name,
        "version": instance.definition.version,
        "status": instance.status,
        "result": instance.result,
        "status_detail": _status_detail(instance, current_steps),
        "promised_at": instance.promised_at,
        "paused_seconds": instance.paused_seconds or 0,
        "enterprise": {"id": enterprise.id, "name": enterprise.name} if enterprise else None,
        "started_at": instance.started_at,
        "ended_at": instance.ended_at,
        "error": _error(instance.error),
        "current_steps": current_steps,
    }


def _status_detail(instance: Instance, current_steps: list[dict[str, Any]]) -> str | None:
    """``with_applicant`` while a step waits for the enterprise (a correction): the clock is
    paused then, and the application reads 待补正."""
    if any(waits_for_applicant(instance.park, step["lane"], step["candidate_groups"])
           for step in current_steps):
        return "with_applicant"
    return None


def _error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    # in the documented order: PostgreSQL's jsonb keeps keys in an order of its own
    if error is None:
        return None
    return {"element_id": error["element_id"], "line": error.get("line"),
            "message": error["message"]}


def _current_step(task: Any, now: datetime) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "element_id": task.element_id,
        "name": task.name,
        "lane": task.lane,
        "candidate_groups": list(task.candidate_groups),
        "assignee": task.assignee,
        "due_at": task.due_at,
        "overdue": is_overdue(task.status, task.due_at, now),
    }


def audit_trail(session: Session, instance_id: str, *, limit: int,
                after: tuple[Any, ...] | None) -> Page:
    """The audit events of one application, oldest first."""
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id)
    return _page(session, stmt, [AuditEvent.at, AuditEvent.id], limit=limit, after=after,
                 descending=False, key_of=lambda row: (row.at, row.id),
                 render=lambda rows: [{"at": row.at, "actor": row.actor, "action": row.action,
                                       "details": row.details} for row in rows])


# --- tasks -------------------------------------------------------------------------------


def task_item(task: HumanTask, now: datetime | None = None) -> dict[str, Any]:
    """One task as the inbox lists it."""
    instance = task.instance
    return {
        "task_id": task.id,
        "instance_id": task.instance_id,
        "reference": instance.reference,
        "park": instance.park.slug,
        "process_key": instance.definition.key,
        "name": task.name,
        "element_id": task.element_id,
        "lane": task.lane,
        "candidate_groups": list(task.candidate_groups),
        "candidate_users": list(task.candidate_users),
        "assignee": task.assignee,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "overdue": is_overdue(task.status, task.due_at, now or datetime.now(UTC)),
        "form_key": task.form_key,
        "priority": task.priority,
        "status": task.status,
        "on_behalf_of": task.on_behalf_of,
        "handoff_kind": task.handoff_kind,
        "parent_task_id": task.parent_id,
    }


def task_detail(session: Session, task: HumanTask) -> dict[str, Any]:
    """A task with its form schema, the values its form opens with (what it submitted, once
    done) and, apart from them, the context shown beside the form."""
    detail = task_item(task)
    detail["form"] = task.instance.definition.forms.get(task.form_key) if task.form_key else None
    detail["completed_by"] = task.completed_by
    detail["completed_at"] = task.completed_at
    detail["outcome"] = task.outcome
    variables = taskforms.variables_of(task)
    detail["form_data"] = taskforms.form_data(session, task, variables)
    detail["context"] = taskforms.context(session, task, variables)
    detail["context"]["resubmission"] = _resubmission(session, task)
    standing = approval_modes.progress_of(task.instance) if task.status == "open" else {}
    found = standing.get(task.element_id)
    detail["approval"] = approval_modes.progress_item(found) if found is not None else None
    detail["handoffs"] = handoffs.status_of(session, task)
    detail["context"]["returned"] = returns.why_returned(session, task)
    return detail


def _resubmission(session: Session, task: HumanTask) -> dict[str, Any] | None:
    """The latest correction round, for a park staff's step (the enterprise sent it)."""
    instance = task.instance
    if waits_for_applicant(instance.park, task.lane, task.candidate_groups):
        return None
    found = resubmission.latest(session, instance)
    return found.as_context() if found is not None else None


# --- processes and notifications ---------------------------------------------------------


def latest_processes(session: Session, park: Park, *, limit: int,
                     after: tuple[Any, ...] | None) -> Page:
    """The newest version of each procedure in the park, most recently deployed first."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .where(ProcessDefinition.park_id == park.id)
              .group_by(ProcessDefinition.key).subquery())
    stmt = select(ProcessDefinition).join(newest, and_(
        ProcessDefinition.key == newest.c.key, ProcessDefinition.version == newest.c.version,
    )).where(ProcessDefinition.park_id == park.id)
    return _page(session, stmt, [ProcessDefinition.deployed_at, ProcessDefinition.id],
                 limit=limit, after=after, descending=True,
                 key_of=lambda row: (row.deployed_at, row.id),
                 render=lambda rows: [{"key": row.key, "name": row.name, "version": row.version,
                                       "deployed_at": row.deployed_at,
                                       "promised_duration": row.promised_duration}
                                      for row in rows])


def list_notifications(session: Session, visible: ColumnElement[bool], *, unread: bool,
                       limit: int, after: tuple[Any, ...] | None) -> Page:
    """The notifications matching ``visible`` (one user's), newest first."""
    stmt = select(Notification).where(visible)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return _page(session, stmt, [Notification.at, Notification.id], limit=limit, after=after,
                 descending=True, key_of=lambda row: (row.at, row.id),
                 render=lambda rows: [notification_item(row) for row in rows])


def notification_item(row: Notification) -> dict[str, Any]:
    """One notification as the API shows it."""
    return {"id": row.id, "at": row.at, "kind": row.kind, "title": row.title, "body": row.body,
            "instance_id": row.instance_id, "task_id": row.task_id,
            "read": row.read_at is not None}
