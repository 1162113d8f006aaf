"""Who may work on a task: assignee, candidate users, candidate groups, the applicant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.models import Group, GroupMember, HumanTask, Instance, Membership, Park, User
from webapp.statements import Prepared

# lanes whose tasks are done by the applying enterprise (补正材料 and the like)
DEFAULT_APPLICANT_LANES = ("企业", "申请人", "申请企业", "Applicant", "Enterprise")


def applicant_lanes(park: Park) -> tuple[str, ...]:
    """Lane (group) names that stand for the applying enterprise in this park."""
    return lanes_in(park.settings)


def lanes_in(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The applicant lanes a park's settings name, or the default ones."""
    configured = settings.get("applicant_lanes")
    return tuple(configured) if configured else DEFAULT_APPLICANT_LANES


def is_applicant_task(park: Park, task: HumanTask) -> bool:
    """Whether the task waits for the enterprise rather than for park staff."""
    return waits_for_applicant(park, task.lane, task.candidate_groups)


def waits_for_applicant(park: Park, lane: str | None, groups: Iterable[str]) -> bool:
    """Whether a step in ``lane`` for ``groups`` is the enterprise's to take."""
    lanes = applicant_lanes(park)
    return lane in lanes or any(group in lanes for group in groups)


@dataclass(frozen=True)
class Worker:
    """A user as one park knows them: their role there (None: not a member) and groups."""

    user_id: str
    username: str
    is_active: bool
    role: str | None
    enterprise_id: str | None
    groups: frozenset[str]


# the user, their membership of the park and their groups in it: one row per group (prepared:
# every completion outside the API asks it; see webapp.statements)
_WORKER = Prepared(
    select(User.id, User.username, User.is_active, Membership.role, Membership.enterprise_id,
           Group.name)
    .select_from(User)
    .outerjoin(Membership, (Membership.user_id == User.id)
               & (Membership.park_id == bindparam("park_id")))
    .outerjoin(GroupMember, GroupMember.user_id == User.id)
    .outerjoin(Group, (Group.id == GroupMember.group_id) & (Group.park_id == bindparam("park_id")))
    .where(User.username == bindparam("username")))


def find_worker(session: Session, username: str, park: Park) -> Worker | None:
    """The user called ``username`` with their standing in ``park``, in one query."""
    rows = _WORKER.rows(session.connection(), {"username": username, "park_id": park.id})
    if not rows:
        return None
    user_id, name, is_active, role, enterprise_id, _ = rows[0]
    return Worker(user_id, name, bool(is_active), role, enterprise_id,
                  frozenset(row[5] for row in rows if row[5] is not None))


def may_work(worker: Worker, park: Park, instance: Instance, task: HumanTask) -> bool:
    """Whether ``worker`` may claim or complete ``task``."""
    if worker.role is None:
        return False
    if is_applicant_task(park, task):
        return worker.role == "enterprise" and worker.enterprise_id == instance.enterprise_id
    if worker.role == "enterprise":
        return False
    if names_nobody(task):
        return worker.role == "admin"
    if task.assignee:
        return task.assignee == worker.username
    if worker.username in task.candidate_users:
        return True
    return not worker.groups.isdisjoint(task.candidate_groups)


def names_nobody(task: HumanTask) -> bool:
    """Whether the diagram left the task to nobody: it falls to the park's administrators."""
    return not (task.assignee or task.candidate_users or task.candidate_groups)


def may_work_on(session: Session, user: User, park: Park, instance: Instance,
                task: HumanTask) -> bool:
    """Whether ``user`` may claim or complete ``task``."""
    worker = find_worker(session, user.username, park)
    return worker is not None and may_work(worker, park, instance, task)
