"""Who may work on a task: assignee, candidate users, candidate groups, the applicant."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.models import Group, GroupMember, HumanTask, Instance, Membership, Park, User

# lanes whose tasks are done by the applying enterprise (补正材料 and the like)
DEFAULT_APPLICANT_LANES = ("企业", "申请人", "申请企业", "Applicant", "Enterprise")


def applicant_lanes(park: Park) -> tuple[str, ...]:
    """Lane (group) names that stand for the applying enterprise in this park."""
    configured = park.settings.get("applicant_lanes")
    return tuple(configured) if configured else DEFAULT_APPLICANT_LANES


def is_applicant_task(park: Park, task: HumanTask) -> bool:
    """Whether the task waits for the enterprise rather than for park staff."""
    lanes = applicant_lanes(park)
    return task.lane in lanes or any(group in lanes for group in task.candidate_groups)


_GROUP_NAMES = (select(Group.name).join(GroupMember, GroupMember.group_id == Group.id)
                .where(GroupMember.user_id == bindparam("user_id"),
                       Group.park_id == bindparam("park_id")))


def group_names(session: Session, user: User, park: Park) -> set[str]:
    """The names of the user's groups in the park."""
    return set(session.scalars(_GROUP_NAMES, {"user_id": user.id, "park_id": park.id}))


def may_work_on(session: Session, user: User, park: Park, instance: Instance,
                task: HumanTask) -> bool:
    """Whether ``user`` may claim or complete ``task``."""
    membership = session.get(Membership, (user.id, park.id))
    if membership is None:
        return False
    if is_applicant_task(park, task):
        return (membership.role == "enterprise"
                and membership.enterprise_id == instance.enterprise_id)
    if membership.role == "enterprise":
        return False
    if task.assignee:
        return task.assignee == user.username
    if user.username in task.candidate_users:
        return True
    return bool(group_names(session, user, park).intersection(task.candidate_groups))
