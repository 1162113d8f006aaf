"""Who holds a task: claiming, giving back and assigning, each written to the audit log.

These change only the inbox projection (``HumanTask.assignee``), never the engine state, but
they take the application's lock like every other change so that a claim and a completion of
the same task cannot interleave.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.db import Database, lock_instance
from webapp.models import HumanTask, Membership, User
from webapp.services import audit
from webapp.services.accounts import find_user
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.services.people import is_applicant_task, may_work_on


def claim_task(db: Database, *, task_id: str, actor: str) -> None:
    """Take an open task as ``actor``, so that it leaves the others' group inbox."""
    with db.write() as session:
        task, user = _open_task(session, task_id, actor)
        if task.assignee == user.username:
            return
        if task.assignee is not None:
            raise Conflict(f"“{task.name}” is already claimed by {task.assignee}")
        if not may_work_on(session, user, task.instance.park, task.instance, task):
            raise Forbidden("you are not among the people this task is waiting for")
        _set_assignee(session, task, user.username, actor, "task.claimed")


def unclaim_task(db: Database, *, task_id: str, actor: str) -> None:
    """Give a claimed task back to its candidate groups (its holder or a park admin)."""
    with db.write() as session:
        task, user = _open_task(session, task_id, actor)
        if task.assignee is None:
            raise Conflict(f"“{task.name}” is not claimed by anyone")
        if task.assignee != user.username and not _is_admin(session, user, task):
            raise Forbidden(f"only {task.assignee} or a park administrator can give it back")
        _set_assignee(session, task, None, actor, "task.unclaimed")


def assign_task(db: Database, *, task_id: str, username: str, actor: str) -> None:
    """Give an open task to ``username`` (park administrators only)."""
    with db.write() as session:
        task, user = _open_task(session, task_id, actor)
        if not _is_admin(session, user, task):
            raise Forbidden("only park administrators can assign tasks")
        assignee = find_user(session, username)
        membership = (session.get(Membership, (assignee.id, task.park_id))
                      if assignee is not None and assignee.is_active else None)
        if membership is None:
            raise Invalid(f"{username!r} is not a member of this park",
                          details={"username": ["is not a member of this park"]})
        park = task.instance.park
        if (membership.role == "enterprise") != is_applicant_task(park, task):
            raise Invalid(f"{username!r} cannot work on “{task.name}”",
                          details={"username": ["cannot work on this task"]})
        if task.assignee != username:
            _set_assignee(session, task, username, actor, "task.assigned")


def _open_task(session: Session, task_id: str, actor: str) -> tuple[HumanTask, User]:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r}")
    lock_instance(session, task.instance_id)
    session.refresh(task)
    if task.status != "open":
        raise Conflict(f"“{task.name}” is no longer open; reload to see where the application is")
    user = find_user(session, actor)
    if user is None or not user.is_active:
        raise NotFound(f"user {actor!r}")
    return task, user


def _is_admin(session: Session, user: User, task: HumanTask) -> bool:
    membership = session.get(Membership, (user.id, task.park_id))
    return membership is not None and membership.role == "admin"


def _set_assignee(session: Session, task: HumanTask, assignee: str | None, actor: str,
                  action: str) -> None:
    before = task.assignee
    task.assignee = assignee
    session.flush()
    audit.record(session, park_id=task.park_id, actor=actor, action=action,
                 instance_id=task.instance_id,
                 details={"task_id": task.id, "element_id": task.element_id, "name": task.name},
                 before={"assignee": before}, after={"assignee": assignee})
