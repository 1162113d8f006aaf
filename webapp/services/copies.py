"""Copies of an application (抄送): who may copy it, to whom, and what the model copies.

A copied person reads the application (its page and ``GET /instances/{id}``) and finds it in
their 抄送我 list; they never act on it through the copy (see webapp.api.scoping). A reviewer
who holds or held a task of the application, or a park administrator, copies it to the park's
staff; a model copies it with the ``cc`` property of a user task (when the task is reached)
or of the process (when the application is submitted). Each person is copied once per
application, and told once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import CopyTarget, OpenTask
from webapp.db import Database, lock_instance
from webapp.models import HumanTask, Instance, InstanceCopy, Membership, Park, User
from webapp.services import audit, jobs
from webapp.services.errors import Forbidden, Invalid, NotFound
from webapp.services.notifications import event_job, group_members
from webapp.services.people import Worker, find_worker

MAX_COPIES = 50
STAFF = ("admin", "reviewer")


def copy_application(
    db: Database,
    *,
    instance_id: str,
    actor: str,
    usernames: Sequence[str],
    comment: str | None = None,
) -> list[str]:
    """Copy an application to park staff as a reviewer of it or an administrator; the
    usernames newly copied (those copied before are not told again)."""
    with db.write() as session:
        instance = lock_instance(session, instance_id)
        park = instance.park
        worker = find_worker(session, actor, park)
        if worker is None or not worker.is_active:
            raise NotFound(f"user {actor!r}")
        if worker.role != "admin" and not held_a_task(session, worker, instance):
            raise Forbidden(
                "only a reviewer who holds or held a task of this application, "
                "or a park administrator, can copy it"
            )
        users = _staff_named(session, park, usernames, actor)
        now = datetime.now(UTC)
        added = _add_copies(session, instance, users, copied_by=actor, element_id=None, now=now)
        audit.record(
            session,
            park_id=park.id,
            actor=actor,
            action="instance.cc",
            instance_id=instance.id,
            details={"usernames": [user.username for user in users], "comment": comment or None},
        )
        jobs.enqueue(session, _announcements(instance, added, by=actor, now=now))
        return [user.username for user in added]


def held_a_task(session: Session, worker: Worker, instance: Instance) -> bool:
    """Whether ``worker`` holds or held a task of the application (assignee, candidate or
    the one who completed it)."""
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    return any(
        worker.username in (task.assignee, task.completed_by)
        or worker.username in task.candidate_users
        or not worker.groups.isdisjoint(task.candidate_groups)
        for task in tasks
    )


def _staff_named(session: Session, park: Park, usernames: Sequence[str], actor: str) -> list[User]:
    names = list(dict.fromkeys(name.strip() for name in usernames if name.strip()))
    if not names:
        raise Invalid(
            "name at least one person to copy to", details={"usernames": ["names nobody"]}
        )
    if len(names) > MAX_COPIES:
        raise Invalid(
            f"at most {MAX_COPIES} people at once",
            details={"usernames": [f"names more than {MAX_COPIES} people"]},
        )
    found = {
        user.username: (user, role)
        for user, role in session.execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.park_id == park.id, User.username.in_(names), User.is_active)
        )
    }
    problems = []
    for name in names:
        if name == actor:
            problems.append(f"{name}: you cannot copy to yourself")
        elif name not in found:
            problems.append(f"{name}: no such person in this park")
        elif found[name][1] not in STAFF:
            problems.append(f"{name}: only the park's staff can be copied")
    if problems:
        raise Invalid("; ".join(problems), details={"usernames": problems})
    return [found[name][0] for name in names]


def _add_copies(
    session: Session,
    instance: Instance,
    users: Iterable[User],
    *,
    copied_by: str | None,
    element_id: str | None,
    now: datetime,
) -> list[User]:
    """Copy the application to ``users`` who have no copy yet; those newly copied."""
    wanted = {user.id: user for user in users}
    if not wanted:
        return []
    have = set(
        session.scalars(
            select(InstanceCopy.user_id).where(
                InstanceCopy.instance_id == instance.id, InstanceCopy.user_id.in_(list(wanted))
            )
        )
    )
    added = [user for user_id, user in wanted.items() if user_id not in have]
    session.add_all(
        InstanceCopy(
            park_id=instance.park_id,
            instance_id=instance.id,
            user_id=user.id,
            copied_by=copied_by,
            element_id=element_id,
            at=now,
        )
        for user in added
    )
    session.flush()
    return added


def _announcements(
    instance: Instance, users: Sequence[User], *, by: str | None, now: datetime
) -> list[dict[str, Any]]:
    if not users:
        return []
    names = [user.username for user in users]
    return [
        event_job(
            "cc",
            instance,
            key=f"cc:{instance.id}:{','.join(sorted(names))}",
            now=now,
            details={"usernames": names, "by": by},
        )
    ]


# --- copies the model asks for ---------------------------------------------------------------


def model_copies(
    session: Session,
    instance: Instance,
    park: Park,
    opened: Sequence[OpenTask],
    process_cc: Sequence[CopyTarget],
    now: datetime,
) -> list[dict[str, Any]]:
    """Copy the application as the ``cc`` properties of the newly ``opened`` tasks and (on
    submission) of the process say; the notification jobs to queue."""
    queued: list[dict[str, Any]] = []
    reasons: list[tuple[str | None, OpenTask | None, Sequence[CopyTarget]]] = (
        [(None, None, process_cc)] if process_cc else []
    )
    reasons += [(task.task_id, task, task.cc) for task in opened if task.cc]
    for task_id, task, targets in reasons:
        users = _targets(session, park, targets)
        added = _add_copies(
            session,
            instance,
            users,
            copied_by=None,
            element_id=task.element_id if task else None,
            now=now,
        )
        if not added:
            continue
        names = [user.username for user in added]
        details: dict[str, Any] = {"usernames": names}
        if task is not None:
            details.update(task_id=task_id, element_id=task.element_id, name=task.name)
        audit.append(
            session,
            park_id=park.id,
            actor=None,
            action="instance.cc",
            instance_id=instance.id,
            at=now,
            details=details,
        )
        queued += _announcements(instance, added, by=None, now=now)
    return queued


def _targets(session: Session, park: Park, targets: Sequence[CopyTarget]) -> list[User]:
    groups = [target.name for target in targets if target.kind == "group"]
    people = [target.name for target in targets if target.kind == "user"]
    found = group_members(session, park.id, groups) if groups else []
    if people:
        found += session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.park_id == park.id,
                Membership.role.in_(STAFF),
                User.username.in_(people),
                User.is_active,
            )
        )
    return found


# --- the reader's side ------------------------------------------------------------------------


def mark_read(db: Database, *, instance_id: str, user_id: str) -> bool:
    """Mark the user's copy of the application read; whether there was an unread one."""
    with db.write() as session:
        done = session.execute(
            update(InstanceCopy)
            .where(
                InstanceCopy.instance_id == instance_id,
                InstanceCopy.user_id == user_id,
                InstanceCopy.read_at.is_(None),
            )
            .values(read_at=datetime.now(UTC))
        )
        return bool(getattr(done, "rowcount", 0))


def has_unread_copy(session: Session, instance_id: str, user_id: str) -> bool:
    """Whether the user holds an unread copy of the application."""
    return (
        session.scalar(
            select(InstanceCopy.id)
            .where(
                InstanceCopy.instance_id == instance_id,
                InstanceCopy.user_id == user_id,
                InstanceCopy.read_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


__all__ = [
    "copy_application",
    "has_unread_copy",
    "held_a_task",
    "mark_read",
    "model_copies",
]
