"""What a user task's automatic rules (``camunda:properties``) do, run by the job worker.

The jobs are queued as the task opens (``webapp.services.taskrules``).

* nobody can take the task (no active park staff among its assignee, candidate users and
  the members of its candidate groups, or it names nobody): ``emptyAssignee`` = ``admins``
  gives it to the park's administrators (its candidates are cleared: a task naming nobody is
  theirs), ``skip`` lets it pass (completed as approved, outcome ``skipped``), ``reject``
  completes it as a rejection;
* the applicant (the person who started the application) would be the one to decide it (its
  assignee, or the only person who can take it): ``selfApproval`` = ``skip`` completes it,
  ``admins`` gives it to the administrators; ``allow`` (the default) leaves it;
* still open at its due date: ``timeoutAction`` = ``remind:N`` reminds its holders up to N
  times, once a working day; ``transfer:<group>`` gives it to that group; ``approve``
  completes it as an approval; ``return`` returns it to the applicant's step, else to the
  step before it.

A decision made by a rule is the boolean ``approved`` (True to approve, False to reject), the
decision field the approval steps share; the form is not checked (no person fills it). The
step history records the outcome (``skipped``, ``approved``, ``rejected``) and the reason.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import EMPTY_ASSIGNEE, SELF_APPROVAL, TIMEOUT_ACTION, timeout_action
from webapp.db import lock_instance
from webapp.models import HumanTask, Instance, Job, Membership, Park, User
from webapp.services import audit, notifications, returns
from webapp.services.calendars import park_calendar
from webapp.services.deadlines import next_working_day
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Invalid
from webapp.services.jobs import JobContext
from webapp.services.people import is_applicant_task
from webapp.services.projections import write_snapshot

DECISION_FIELD = "approved"
TIMEOUT_REASON = "办理期限已到，自动退回"


def apply_rules(ctx: JobContext, session: Session, job: Job, now: datetime) -> None:
    """Handle a 'task_rules' job: the task's selfApproval, else its emptyAssignee."""
    found = _open_task(session, job)
    if found is None:
        return None
    task, instance = found
    park = instance.park
    if is_applicant_task(park, task):
        return None  # the enterprise's own steps are not approvals
    rules = _properties(instance, task)
    people = _able(session, park, task)
    starter = _starter(session, instance)
    self_rule = rules.get(SELF_APPROVAL, "allow")
    empty_rule = rules.get(EMPTY_ASSIGNEE)
    if (
        self_rule != "allow"
        and starter is not None
        and (task.assignee == starter or people == {starter})
    ):
        _act(ctx, session, task, instance, self_rule, "self", now)
    elif not people and empty_rule is not None:
        _act(ctx, session, task, instance, empty_rule, "empty", now)
    return None


def on_timeout(ctx: JobContext, session: Session, job: Job, now: datetime) -> datetime | None:
    """Handle a 'task_timeout' job: the task's timeoutAction, at its due date."""
    found = _open_task(session, job)
    if found is None:
        return None
    task, instance = found
    action = timeout_action(_properties(instance, task).get(TIMEOUT_ACTION))
    if action is None:
        return None
    park = instance.park
    details = _about(task)
    if action.kind == "remind":
        count = int(job.payload.get("count", 0)) + 1
        notifications.publish(
            ctx,
            session,
            instance=instance,
            kind="reminded",
            task=task,
            people=notifications.holders(session, park, task),
            key=f"reminded:{task.id}:{count}",
            details={"count": count},
            now=now,
        )
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="task.reminded",
            instance_id=instance.id,
            details={**details, "count": count},
        )
        job.payload = {**job.payload, "count": count}
        if count >= action.reminders:
            return None
        return next_working_day(job.due_at, now, park_calendar(park, session))
    if action.kind == "transfer":
        assert action.group is not None
        _hand_to(task, groups=[action.group])
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="task.timeout_transferred",
            instance_id=instance.id,
            details={**details, "group": action.group},
        )
        _announce(ctx, session, instance, task, now)
    elif action.kind == "approve":
        _decide(
            session, task, instance, approved=True, outcome="approved", reason="timeout", now=now
        )
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="task.auto_approved",
            instance_id=instance.id,
            details={**details, "reason": "timeout"},
        )
    else:
        _auto_return(session, task, instance, now)
    return None


def _open_task(session: Session, job: Job) -> tuple[HumanTask, Instance] | None:
    task = session.get(HumanTask, job.task_id) if job.task_id else None
    if task is None:
        return None
    instance = lock_instance(session, task.instance_id)
    session.refresh(task)
    if task.status != "open" or instance.status in ("completed", "cancelled"):
        return None
    return task, instance


def _properties(instance: Instance, task: HumanTask) -> dict[str, str]:
    human = version_of(instance.definition).human_tasks.get(task.element_id)
    return dict(human.properties) if human is not None else {}


def _about(task: HumanTask) -> dict[str, Any]:
    return {"task_id": task.id, "element_id": task.element_id, "name": task.name}


def _able(session: Session, park: Park, task: HumanTask) -> set[str]:
    """Usernames of the park's active staff who can take the task."""
    if not (task.assignee or task.candidate_users or task.candidate_groups):
        return set()
    named = {user.id: user.username for user in notifications.everyone_on(session, park, task)}
    if not named:
        return set()
    staff = session.scalars(
        select(Membership.user_id).where(
            Membership.park_id == park.id,
            Membership.user_id.in_(list(named)),
            Membership.role != "enterprise",
        )
    )
    return {named[user_id] for user_id in staff}


def _starter(session: Session, instance: Instance) -> str | None:
    if instance.started_by is None:
        return None
    user = session.get(User, instance.started_by)
    return user.username if user is not None else None


def _act(
    ctx: JobContext,
    session: Session,
    task: HumanTask,
    instance: Instance,
    rule: str,
    reason: str,
    now: datetime,
) -> None:
    park = instance.park
    details = {**_about(task), "reason": reason}
    if rule == "admins":
        _hand_to(task, groups=[])
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="task.to_admins",
            instance_id=instance.id,
            details=details,
        )
        _announce(ctx, session, instance, task, now)
    elif rule == "skip":
        _decide(session, task, instance, approved=None, outcome="skipped", reason=reason, now=now)
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="task.skipped",
            instance_id=instance.id,
            details=details,
        )
    elif rule == "reject":
        _decide(session, task, instance, approved=False, outcome="rejected", reason=reason, now=now)
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="task.auto_rejected",
            instance_id=instance.id,
            details=details,
        )


def _hand_to(task: HumanTask, *, groups: list[str]) -> None:
    """The task now waits for ``groups`` (none: the park's administrators)."""
    task.candidate_groups = groups
    task.candidate_users = []
    task.assignee = None


def _announce(
    ctx: JobContext, session: Session, instance: Instance, task: HumanTask, now: datetime
) -> None:
    session.flush()
    people = notifications.holders(session, instance.park, task)
    if not (task.candidate_groups or task.candidate_users):
        people = _admins(session, instance.park)
    notifications.publish(
        ctx,
        session,
        instance=instance,
        kind="task_waiting",
        task=task,
        people=people,
        key=f"rules:{task.id}:{len(task.candidate_groups)}",
        details={},
        now=now,
    )


def _admins(session: Session, park: Park) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.park_id == park.id, Membership.role == "admin", User.is_active)
            .order_by(User.username)
        )
    )


def _decide(
    session: Session,
    task: HumanTask,
    instance: Instance,
    *,
    approved: bool | None,
    outcome: str,
    reason: str,
    now: datetime,
) -> None:
    """Complete the task with the rule's decision, its step recording why."""
    park = instance.park
    data = {DECISION_FIELD: approved}
    snapshot = engine_for(park).complete_task(
        version_of(instance.definition), instance.state, task.id, data, validate=False
    )
    steps = tuple(
        dataclasses.replace(step, outcome=outcome, data={**data, "rule": reason})
        if step.task_id == task.id
        else step
        for step in snapshot.steps
    )
    write_snapshot(
        session, instance, park, dataclasses.replace(snapshot, steps=steps), actor=None, now=now
    )


def _auto_return(session: Session, task: HumanTask, instance: Instance, now: datetime) -> None:
    """Return the task to the applicant's step, else to the step before it."""
    targets = returns.return_targets(session, task)
    if not targets:
        raise Invalid(
            f"“{task.name}” is overdue and set to return, but has no earlier step to return to"
        )
    target = next((t for t in targets if t["element_id"] == returns.APPLICANT), targets[0])
    element = target["element_id"]
    if element == returns.APPLICANT:
        found = returns.applicant_step(task)
        assert found is not None
        element = found[0]
    park = instance.park
    record = {
        "return_reasons": [TIMEOUT_REASON],
        "comment": None,
        "return_to": element,
        "resume": "flow",
    }
    snapshot = engine_for(park).return_task(
        version_of(instance.definition), instance.state, task.id, element, record=record
    )
    write_snapshot(session, instance, park, snapshot, actor=None, now=now)
    audit.record(
        session,
        park_id=park.id,
        actor=None,
        action="task.auto_returned",
        instance_id=instance.id,
        details={
            **_about(task),
            "to": target["element_id"],
            "to_name": target["name"],
            "reasons": [TIMEOUT_REASON],
        },
    )
