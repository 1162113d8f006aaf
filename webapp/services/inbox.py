"""The inbox: open tasks matching a filter, overdue and soonest due first, undated last.

Other orders people sort by (``SORTS``): received (newest first), waiting (longest waiting
first), priority (highest first, then newest) and applicant (enterprise name A to Z, then
oldest). Each pages by keyset on its own columns ending in (created_at, id), so paging stays
stable however many tasks share a value; received, waiting and priority walk the partial
indexes ``ix_human_tasks_open_created`` and ``ix_human_tasks_open_priority``; applicant
sorts the filtered tasks by the joined enterprise's name.

One query serves the inbox page and ``GET /api/v1/tasks``. Who sees which tasks is the
caller's part (``visible``, from ``webapp.api.scoping.inbox_condition`` for the filter's
scope); what the list is narrowed to is an ``InboxFilter``. A page walks the open tasks in
(due_at, created_at, id) order, first those with a due date, then the undated ones oldest
first, each part along the partial index ``ix_human_tasks_open_due``, so a page stops after
its rows however many tasks are open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from webapp.models import Enterprise, HumanTask, Instance, Park, ProcessDefinition
from webapp.models.tasks import is_due_soon, is_overdue

SCOPES = ("all", "mine", "groups")
SORTS = ("due", "received", "waiting", "priority", "applicant")
DEFAULT_SORT = "due"
# tasks without a due date sort after every dated one
NEVER_DUE = datetime(9999, 12, 31, tzinfo=UTC)
MAX_TEXT = 64
# applications a search may name and still have their tasks looked up one by one
MAX_MENTIONED = 200
InboxKey = tuple[datetime, datetime, str]
KeyKind = Literal["time", "str", "int"]  # as webapp.services.queries.KeyKind


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to.

    ``scope``: ``mine`` (assigned to the caller), ``groups`` (unassigned, waiting for a group
    or list of people the caller is in), ``all`` (both); ``process_key``: one procedure;
    ``text``: part of a reference number or an enterprise's name; ``overdue_only``: only
    tasks past their due time; ``sort``: the order it is listed in (one of ``SORTS``).
    """

    scope: str = "all"
    process_key: str | None = None
    text: str | None = None
    overdue_only: bool = False
    sort: str = DEFAULT_SORT


@dataclass(frozen=True)
class Counts:
    """How many tasks the filtered inbox holds, how many are late or due soon, and claimed by
    the caller."""

    total: int
    overdue: int
    due_soon: int
    mine: int


_COLUMNS = (
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
    Instance.reference,
    Park.slug.label("park"),
    ProcessDefinition.key.label("process_key"),
    ProcessDefinition.name.label("process_name"),
    Enterprise.name.label("enterprise_name"),
)


def matching(
    session: Session,
    visible: ColumnElement[bool],
    chosen: InboxFilter,
    now: datetime,
    *,
    park_id: str | None = None,
) -> ColumnElement[bool]:
    """The open tasks ``visible`` selects that pass ``chosen`` (in one park, with
    ``park_id``); it needs the joins of ``_joined``."""
    parts = [visible, HumanTask.status == "open"]
    if park_id is not None:
        parts.append(HumanTask.park_id == park_id)
    if chosen.process_key:
        parts.append(ProcessDefinition.key == chosen.process_key)
    if chosen.text:
        parts.append(_mentions(session, chosen.text, park_id))
    if chosen.overdue_only:
        parts.append(HumanTask.overdue_at(now))
    return and_(*parts)


def _mentions(session: Session, text: str, park_id: str | None) -> ColumnElement[bool]:
    """Tasks of applications whose reference or enterprise name holds ``text``.

    A search names a few applications: they are read first and their tasks looked up by
    application, instead of walking every open task in due order to find none. Past
    ``MAX_MENTIONED`` of them, the walk finds a page soon enough and the search stays a
    subquery.
    """
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    companies = select(Enterprise.id).where(Enterprise.name.ilike(pattern, escape="\\"))
    applications = select(Instance.id)
    if park_id is not None:
        companies = companies.where(Enterprise.park_id == park_id)
        applications = applications.where(Instance.park_id == park_id)
    applications = applications.where(
        or_(
            Instance.reference.ilike(pattern, escape="\\"),
            Instance.enterprise_id.in_(companies),
        )
    )
    found = list(session.scalars(applications.limit(MAX_MENTIONED + 1)))
    if len(found) > MAX_MENTIONED:
        return HumanTask.instance_id.in_(applications)
    return HumanTask.instance_id.in_(found)


def _joined(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.join(Instance, Instance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        .join(Park, Park.id == HumanTask.park_id)
        .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id)
    )


# the key kinds (see webapp.services.queries.KeyKind) of each order but due's, which is
# INBOX_KEY; a key starts with the order's name, so that it continues no other order
SORT_KEYS: dict[str, tuple[KeyKind, ...]] = {
    "received": ("str", "time", "str"),
    "waiting": ("str", "time", "str"),
    "priority": ("str", "int", "time", "str"),
    "applicant": ("str", "str", "time", "str"),
}


def _applicant_name() -> ColumnElement[str]:
    return func.coalesce(Enterprise.name, "")


def _order(sort: str) -> list[tuple[ColumnElement[Any], bool]]:
    """The columns ``sort`` orders by, each with whether it descends."""
    if sort == "received":
        return [(HumanTask.created_at, True), (HumanTask.id, True)]
    if sort == "waiting":
        return [(HumanTask.created_at, False), (HumanTask.id, False)]
    if sort == "priority":
        return [(HumanTask.priority, True), (HumanTask.created_at, True), (HumanTask.id, True)]
    if sort == "applicant":
        return [(_applicant_name(), False), (HumanTask.created_at, False), (HumanTask.id, False)]
    raise ValueError(sort)


def key_fits(sort: str, key: tuple[Any, ...] | None) -> bool:
    """Whether a decoded page key continues ``sort`` (a key of another order does not)."""
    if key is None or sort == DEFAULT_SORT:
        return True
    return len(key) == len(SORT_KEYS[sort]) and key[0] == sort


def page(
    session: Session,
    condition: ColumnElement[bool],
    *,
    limit: int,
    after: tuple[Any, ...] | None,
    now: datetime,
    sort: str = DEFAULT_SORT,
) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    """One page of the tasks ``condition`` (from ``matching``) selects, in ``sort`` order, and
    the key that continues it (None on the last page); ``after`` must fit ``sort``."""
    if sort != DEFAULT_SORT:
        return _sorted_page(session, condition, limit=limit, after=after, now=now, sort=sort)
    stmt = _joined(select(*_COLUMNS).select_from(HumanTask)).where(condition)
    rows: list[Any] = []
    undated_after = after if after is not None and after[0] == NEVER_DUE else None
    if undated_after is None:
        dated = stmt.where(HumanTask.due_at.is_not(None))
        if after is not None:
            dated = dated.where(
                HumanTask.due_at >= after[0], _past(HumanTask.due_at, after[0], after)
            )
        rows = list(
            session.execute(
                dated.order_by(HumanTask.due_at, HumanTask.created_at, HumanTask.id).limit(
                    limit + 1
                )
            )
        )
    if len(rows) <= limit:
        undated = stmt.where(HumanTask.due_at.is_(None))
        if undated_after is not None:
            undated = undated.where(
                or_(
                    HumanTask.created_at > undated_after[1],
                    and_(HumanTask.created_at == undated_after[1], HumanTask.id > undated_after[2]),
                )
            )
        rows += session.execute(
            undated.order_by(HumanTask.created_at, HumanTask.id).limit(limit + 1 - len(rows))
        )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    key = (last.due_at or NEVER_DUE, last.created_at, last.id) if last is not None else None
    return [item(row, now) for row in rows], key


def _sorted_page(
    session: Session,
    condition: ColumnElement[bool],
    *,
    limit: int,
    after: tuple[Any, ...] | None,
    now: datetime,
    sort: str,
) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    order = _order(sort)
    stmt = _joined(select(*_COLUMNS).select_from(HumanTask)).where(condition)
    if after is not None:
        stmt = stmt.where(_beyond(order, after[1:]))
    stmt = stmt.order_by(*(column.desc() if down else column.asc() for column, down in order))
    rows = list(session.execute(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    key: tuple[Any, ...] | None = None
    if more:
        last = rows[-1]
        lead: tuple[Any, ...] = ()
        if sort == "priority":
            lead = (last.priority,)
        elif sort == "applicant":
            lead = (last.enterprise_name or "",)
        key = (sort, *lead, last.created_at, last.id)
    return [item(row, now) for row in rows], key


def _beyond(
    order: list[tuple[ColumnElement[Any], bool]], key: tuple[Any, ...]
) -> ColumnElement[bool]:
    """Rows after ``key`` in ``order`` (all its columns run the same way): one row-value
    comparison, which an index in that order takes as where its walk starts."""
    down = order[0][1]
    columns = [column for column, _down in order]
    values = [literal(value, column.type) for column, value in zip(columns, key, strict=True)]
    return tuple_(*columns) < tuple_(*values) if down else tuple_(*columns) > tuple_(*values)


def _past(due: Any, value: datetime, after: InboxKey) -> ColumnElement[bool]:
    """Rows after ``after`` in (due, created, id) order."""
    return or_(
        due > value,
        and_(
            due == value,
            or_(
                HumanTask.created_at > after[1],
                and_(HumanTask.created_at == after[1], HumanTask.id > after[2]),
            ),
        ),
    )


def counts(
    session: Session, condition: ColumnElement[bool], *, username: str, now: datetime
) -> Counts:
    """All four counts of the tasks ``condition`` selects, in one query."""
    stmt = _joined(
        select(
            func.count(),
            func.coalesce(func.sum(case((HumanTask.overdue_at(now), 1), else_=0)), 0),
            func.coalesce(func.sum(case((HumanTask.due_soon_at(now), 1), else_=0)), 0),
            func.coalesce(func.sum(case((HumanTask.assignee == username, 1), else_=0)), 0),
        ).select_from(HumanTask)
    ).where(condition)
    total, late, soon, mine = session.execute(stmt).one()
    return Counts(int(total), int(late), int(soon), int(mine))


def item(row: Any, now: datetime) -> dict[str, Any]:
    """One task as the inbox lists it."""
    return {
        "task_id": row.id,
        "instance_id": row.instance_id,
        "reference": row.reference,
        "park": row.park,
        "process_key": row.process_key,
        "process_name": row.process_name,
        "enterprise_name": row.enterprise_name,
        "name": row.name,
        "element_id": row.element_id,
        "lane": row.lane,
        "candidate_groups": list(row.candidate_groups),
        "candidate_users": list(row.candidate_users),
        "assignee": row.assignee,
        "created_at": row.created_at,
        "due_at": row.due_at,
        "follow_up_at": row.follow_up_at,
        "overdue": is_overdue(row.status, row.due_at, now),
        "due_soon": is_due_soon(row.status, row.due_at, row.follow_up_at, now),
        "form_key": row.form_key,
        "priority": row.priority,
        "status": row.status,
        "on_behalf_of": row.on_behalf_of,
        "handoff_kind": row.handoff_kind,
        "parent_task_id": row.parent_id,
    }


def procedures(session: Session, park_id: str) -> list[tuple[str, str]]:
    """The park's procedures (key, newest name), for the filter."""
    newest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        .where(ProcessDefinition.park_id == park_id)
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    rows: Sequence[Any] = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name)
        .join(
            newest,
            and_(ProcessDefinition.key == newest.c.key, ProcessDefinition.version == newest.c.v),
        )
        .where(ProcessDefinition.park_id == park_id)
        .order_by(ProcessDefinition.name)
    ).all()
    return [(row.key, row.name) for row in rows]
