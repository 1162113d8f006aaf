"""The inbox: open tasks of the user and of their groups, overdue first, fifty at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from webapp.api.scoping import inbox_condition
from webapp.extensions import store
from webapp.models import Enterprise, HumanTask, Instance, ProcessDefinition
from webapp.pages.access import Here, here
from webapp.services.queries import NEVER_DUE

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50
SCOPES = ("all", "mine", "groups")
MAX_QUERY = 64


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to: a procedure, a reference number, whose tasks."""

    process_key: str
    query: str
    scope: str


@dataclass(frozen=True)
class Counts:
    """How many tasks the (filtered) inbox holds, and how many of them are late or due soon."""

    total: int
    overdue: int
    due_soon: int
    mine: int


@bp.route("/inbox")
@login_required
def index() -> str:
    """List the open tasks of the user and their groups, overdue and soonest due first."""
    where = here()
    chosen = InboxFilter(process_key=request.args.get("process", "")[:255],
                         query=request.args.get("q", "").strip()[:MAX_QUERY],
                         scope=request.args.get("scope", "all"))
    if chosen.scope not in SCOPES:
        abort(400)
    after = _decode(request.args.get("after"))
    now = datetime.now(UTC)
    with store.database.read() as session:
        condition, joined = _condition(session, where, chosen)
        counts = _counts(session, condition, joined, now)
        rows, next_key = _page(session, condition, after)
        procedures = _procedures(session, where)
    return render_template("inbox.html", rows=rows, counts=counts, now=now, filter=chosen,
                           procedures=procedures, paged=after is not None,
                           next_after=_encode(next_key) if next_key else None,
                           username=current_user.username,
                           applicant_lanes=set(where.role.applicant_lanes))


def _condition(session: Session, where: Here, chosen: InboxFilter
               ) -> tuple[ColumnElement[bool], bool]:
    """The tasks to list, and whether that needs the application's columns (a join).

    A search selects its few applications first; a procedure is matched on the joined rows,
    so that the page still walks the due-date index and stops after one page.
    """
    park_id = where.role.park_id
    parts = [HumanTask.park_id == park_id, HumanTask.status == "open",
             inbox_condition(session, where.park_viewer, chosen.scope)]
    if chosen.process_key:
        parts.append(ProcessDefinition.key == chosen.process_key)
    if chosen.query:
        pattern = "%" + chosen.query.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        companies = select(Enterprise.id).where(Enterprise.park_id == park_id,
                                                Enterprise.name.ilike(pattern, escape="\\"))
        parts.append(HumanTask.instance_id.in_(select(Instance.id).where(
            Instance.park_id == park_id,
            or_(Instance.reference.ilike(pattern, escape="\\"),
                Instance.enterprise_id.in_(companies)))))
    return and_(*parts), bool(chosen.process_key)


def _joined(stmt: Select[Any]) -> Select[Any]:
    return (stmt.join(Instance, Instance.id == HumanTask.instance_id)
            .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
            .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id))


def _counts(session: Session, condition: ColumnElement[bool], joined: bool,
            now: datetime) -> Counts:
    """All four counts in one query."""
    overdue = HumanTask.due_at < now
    due_soon = and_(HumanTask.follow_up_at <= now,
                    or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now))
    stmt = select(
        func.count(),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
        func.coalesce(func.sum(case((due_soon, 1), else_=0)), 0),
        func.coalesce(func.sum(case((HumanTask.assignee == current_user.username, 1),
                                    else_=0)), 0),
    ).select_from(HumanTask)
    total, late, soon, mine = session.execute(
        (_joined(stmt) if joined else stmt).where(condition)).one()
    return Counts(int(total), int(late), int(soon), int(mine))


def _page(session: Session, condition: ColumnElement[bool],
          after: tuple[datetime, datetime, str] | None) -> tuple[list[Any], Any]:
    """One page in due order: the dated tasks first (walking the due-date index, so only
    the page's rows are examined), then those without a due date, oldest first."""
    stmt = _joined(select(
        HumanTask.id, HumanTask.name, HumanTask.instance_id, HumanTask.assignee, HumanTask.lane,
        HumanTask.candidate_groups, HumanTask.candidate_users, HumanTask.created_at,
        HumanTask.due_at, HumanTask.follow_up_at, Instance.reference,
        ProcessDefinition.name.label("process_name"),
        Enterprise.name.label("enterprise_name"),
    ).select_from(HumanTask)).where(condition)
    rows: list[Any] = []
    undated_after = after if after is not None and after[0] == NEVER_DUE else None
    if undated_after is None:
        dated = stmt.where(HumanTask.due_at.is_not(None))
        if after is not None:
            dated = dated.where(HumanTask.due_at >= after[0], _past(HumanTask.due_at, after))
        rows = list(session.execute(dated.order_by(
            HumanTask.due_at, HumanTask.created_at, HumanTask.id).limit(PAGE_SIZE + 1)))
    if len(rows) <= PAGE_SIZE:
        undated = stmt.where(HumanTask.due_at.is_(None))
        if undated_after is not None:
            undated = undated.where(or_(HumanTask.created_at > undated_after[1], and_(
                HumanTask.created_at == undated_after[1], HumanTask.id > undated_after[2])))
        rows += session.execute(undated.order_by(HumanTask.created_at, HumanTask.id)
                                .limit(PAGE_SIZE + 1 - len(rows)))
    if len(rows) <= PAGE_SIZE:
        return rows, None
    last = rows[PAGE_SIZE - 1]
    return rows[:PAGE_SIZE], (last.due_at or NEVER_DUE, last.created_at, last.id)


def _past(due: Any, after: tuple[datetime, datetime, str]) -> ColumnElement[bool]:
    """Rows after ``after`` in (due, created, id) order."""
    return or_(due > after[0], and_(due == after[0], or_(
        HumanTask.created_at > after[1],
        and_(HumanTask.created_at == after[1], HumanTask.id > after[2]))))


def _procedures(session: Session, where: Here) -> list[tuple[str, str]]:
    """The park's procedures (key, newest name), for the filter."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
              .where(ProcessDefinition.park_id == where.role.park_id)
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name).join(
        newest, and_(ProcessDefinition.key == newest.c.key,
                     ProcessDefinition.version == newest.c.v))
        .where(ProcessDefinition.park_id == where.role.park_id)
        .order_by(ProcessDefinition.name)).all()
    return [(row.key, row.name) for row in rows]


def _encode(key: tuple[datetime, datetime, str]) -> str:
    return "~".join((key[0].isoformat(), key[1].isoformat(), key[2]))


def _decode(raw: str | None) -> tuple[datetime, datetime, str] | None:
    """The sort key a "next page" link carries; 400 when it was tampered with."""
    if not raw:
        return None
    parts = raw.split("~")
    try:
        if len(parts) != 3 or len(parts[2]) > 64:
            raise ValueError(raw)
        due, created = (datetime.fromisoformat(p) for p in parts[:2])
    except ValueError:
        abort(400)
    if due.tzinfo is None or created.tzinfo is None:
        abort(400)
    return due, created, parts[2]
