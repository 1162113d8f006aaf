"""Approval modes (或签, 会签, 依次审批, 按比例通过) as the store sees them.

The engine runs the modes (engine/approval.py); here the store tells it who a group's members
are when a node signs by them, records which signers' tasks a mode closed, and tells where a
node stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import ApprovalProgress, Engine, ProcessVersion, Snapshot, signs_by_groups
from webapp.models import Group, GroupMember, HumanTask, Instance, Membership, Park, User
from webapp.services import audit
from webapp.services.engines import engine_for, version_of

MODE = "approvalMode"


def engine_with_people(
    session: Session, park: Park, version: ProcessVersion, engine: Engine
) -> Engine:
    """``engine``, told the members of the park's groups when ``version`` signs by them."""
    if not signs_by_groups(version.human_tasks):
        return engine
    return engine.with_people(lambda group: group_members(session, park.id, group))


def group_members(session: Session, park_id: str, group: str) -> list[str]:
    """The active park members in ``group`` now, by username."""
    return list(
        session.scalars(
            select(User.username)
            .join(GroupMember, GroupMember.user_id == User.id)
            .join(Group, Group.id == GroupMember.group_id)
            .join(Membership, (Membership.user_id == User.id) & (Membership.park_id == park_id))
            .where(
                Group.park_id == park_id,
                Group.name == group,
                User.is_active.is_(True),
                Membership.role != "enterprise",
            )
            .order_by(User.username)
        )
    )


def mode_of(version: ProcessVersion, element_id: str) -> str | None:
    """The approval mode a user task declares (``all``, ``ratio:0.6``, ...), or None."""
    human = version.human_tasks.get(element_id)
    return (human.properties.get(MODE) or None) if human is not None else None


def open_before(session: Session, instance: Instance, task: HumanTask) -> list[str]:
    """The ids of the instance's open tasks before a completion of ``task``.

    The last step wrote them with the instance (``waits``); an instance written before it
    did has its open rows of the node read.
    """
    known = (instance.waits or {}).get("tasks")
    if known is not None:
        return list(known)
    return list(
        session.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance.id,
                HumanTask.element_id == task.element_id,
                HumanTask.status == "open",
            )
        )
    )


def record_closed(
    session: Session,
    *,
    park_id: str,
    instance_id: str,
    mode: str,
    task: HumanTask,
    before: Iterable[str],
    snapshot: Snapshot,
    actor: str,
    now: datetime,
    action: str = "task.closed_by_mode",
) -> None:
    """Audit the signers' tasks that the completion of ``task`` closed (``task.closed_by_mode``),
    or that its return closed (``action="task.closed_by_return"``: a return stops the node).

    ``before`` are the ids of the tasks open before the completion: those of the same node
    that are neither still open nor finished by this step were closed by the mode.
    """
    kept = {t.task_id for t in snapshot.open_tasks} | {s.task_id for s in snapshot.steps}
    gone = [task_id for task_id in before if task_id not in kept and task_id != task.id]
    if not gone:
        return
    closed = session.scalars(
        select(HumanTask).where(HumanTask.id.in_(gone), HumanTask.element_id == task.element_id)
    ).all()
    for row in closed:
        audit.append(
            session,
            park_id=park_id,
            actor=actor,
            action=action,
            instance_id=instance_id,
            at=now,
            details={
                "task_id": row.id,
                "element_id": row.element_id,
                "name": row.name,
                "assignee": row.assignee,
                "mode": mode,
                "by": actor,
            },
        )


def progress_of(instance: Instance) -> dict[str, ApprovalProgress]:
    """element id -> where each running approval node of the application stands.

    Reads the engine state, so only for a version that has approval nodes (pages, task detail;
    never a completion).
    """
    version = version_of(instance.definition)
    if instance.status != "active" or not any(
        mode_of(version, element) for element in version.human_tasks
    ):
        return {}
    found = engine_for(instance.park).approval_progress(version, instance.state)
    return {progress.element_id: progress for progress in found}


def progress_item(progress: ApprovalProgress) -> dict[str, object]:
    """A node's progress as the API gives it."""
    return {
        "mode": progress.mode,
        "ratio": progress.ratio,
        "total": progress.total,
        "approved": progress.approved,
        "rejected": progress.rejected,
        "signers": [{"username": who, "decision": decision} for who, decision in progress.signers],
    }
