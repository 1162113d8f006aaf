"""Time limits of human tasks and the promised date of an application.

After every state change (``sync``, called by ``write_snapshot`` in the same transaction):

* each open task with a follow-up time gets a ``reminder`` job ("due soon" to whoever holds
  it), and each task with a due time an ``overdue`` job (overdue to everyone on the task and
  escalated to the escalation group, repeated each working day until the task is done); a task
  given only a due time is followed up one working day before it;
* jobs of tasks that are no longer open are removed, and their handlers check again anyway;
* a task waiting for people, a return for correction and a finished application are announced
  (``notifications``), each once;
* the time an application spent waiting on the enterprise (an open task in an applicant lane)
  moves its promised date later: that time does not count against the park's promise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import Session

from engine import Snapshot, StepRecord, WorkCalendar, add_working_days
from engine.calendars import subtract_working_days
from webapp.models import HumanTask, Instance, Job, Park
from webapp.services import jobs, notifications, ratings, webhooks
from webapp.services.calendars import park_calendar
from webapp.services.engines import version_of
from webapp.services.jobs import JobContext
from webapp.services.people import is_applicant_task
from webapp.services.taskrules import RULE_KINDS
from webapp.statements import Prepared

REMINDER, OVERDUE = "reminder", "overdue"
# a task's automatic rules (taskrules) go with it, like its reminders
DEADLINE_KINDS = (REMINDER, OVERDUE, *RULE_KINDS)
ESCALATION_PROPERTY = "escalationGroup"
RETURN_OUTCOME = "return"


_DROP_CLOSED_DEADLINES = delete(Job).where(
    Job.instance_id == bindparam("instance_id"), Job.kind.in_(DEADLINE_KINDS),
    Job.status == "pending", Job.task_id.not_in(bindparam("open_ids", expanding=True)))


_DROP_DEADLINES_OF = Prepared(delete(Job).where(
    Job.instance_id == bindparam("instance_id"), or_(*(Job.kind == k for k in DEADLINE_KINDS)),
    Job.status == "pending", Job.task_id == bindparam("task_id")))


def sync(session: Session, instance: Instance, park: Park, snapshot: Snapshot,
         now: datetime, *, rows: Mapping[str, HumanTask] | None = None,
         changes: dict[str, Any], opened: Sequence[str] | None = None,
         closed: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Bring deadline jobs, announcements and the promised date in line with ``snapshot``.

    Call it after the task rows of the snapshot were written; ``rows`` are those rows by id,
    when the caller has them at hand (else they are read). ``opened`` and ``closed`` are the
    tasks that opened and closed in this step, when the caller knows them: then only those
    are looked at (the tasks open all along have their jobs already). Jobs of tasks no longer
    open are dropped here; the new deadline and announcement jobs are returned, for the
    caller to queue with its own in one statement (``jobs.enqueue``). A moved promise goes
    into ``changes``, the instance row's new values.
    """
    open_ids = [task.task_id for task in snapshot.open_tasks]
    if closed is None:
        session.connection().execute(_DROP_CLOSED_DEADLINES,
                                     {"instance_id": instance.id, "open_ids": open_ids})
    else:
        _DROP_DEADLINES_OF.run_many(session.connection(), [
            {"instance_id": instance.id, "task_id": task_id} for task_id in closed])
    announced = open_ids if opened is None else list(opened)
    # a step with a person behind it is a completed human task; timers and gateways have none
    done_ids = [step.task_id for step in snapshot.steps if step.completed_by is not None]
    missing = [task_id for task_id in [*announced, *done_ids]
               if rows is None or task_id not in rows]
    if missing:
        rows = {**(rows or {}), **_task_rows(session, instance, missing)}
    assert rows is not None
    changes.update(pause_promise(instance, park, snapshot.steps, rows))
    returned = _return_step(snapshot.steps, rows)
    calendar = _lazy(lambda: park_calendar(park, session))
    queued: list[dict[str, Any]] = []
    for task_id in announced:
        row = rows.get(task_id)
        if row is None:
            continue
        queued += deadline_jobs(row, calendar)
        if returned is not None and is_applicant_task(park, row):
            queued.append(notifications.event_job(
                "returned", instance, key=f"waiting:{row.id}", task_id=row.id, now=now,
                details={"reasons": _reasons(returned)}))
        elif returned is not None and _returned_to(returned) == row.element_id:
            # 退回 to a step of the park's staff: its holders hear why, and from where
            queued.append(notifications.event_job(
                "returned", instance, key=f"waiting:{row.id}", task_id=row.id, now=now,
                details={"reasons": _reasons(returned), "from": returned.name}))
        else:
            queued.append(notifications.event_job(
                "task_waiting", instance, key=f"waiting:{row.id}", task_id=row.id, now=now))
    if snapshot.status == "completed":
        queued.append(notifications.event_job(
            "completed", instance, key=f"completed:{instance.id}", now=now))
        if changes.get("result", instance.result) != "withdrawn":
            # 好差评: invited to rate some days on, unless rated by then
            queued.append(ratings.invitation_job(instance, park, now))
    return queued


def _task_rows(session: Session, instance: Instance,
               task_ids: Sequence[str]) -> dict[str, HumanTask]:
    if not task_ids:
        return {}
    return {row.id: row for row in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.id.in_(task_ids)))}


def _lazy(make: Callable[[], WorkCalendar]) -> Callable[[], WorkCalendar]:
    made: list[WorkCalendar] = []

    def get() -> WorkCalendar:
        if not made:
            made.append(make())
        return made[0]

    return get


def deadline_jobs(task: HumanTask, calendar: Callable[[], WorkCalendar]) -> list[dict[str, Any]]:
    """The reminder and overdue jobs of an open task (queued once: they carry dedupe keys)."""
    if task.follow_up_at is None and task.due_at is not None:
        # the default early warning: one working day before the task is due, never before
        # the task existed (then it is due soon from the start)
        task.follow_up_at = max(subtract_working_days(task.due_at, 1, calendar()),
                                task.created_at)
    found = []
    follow_up = task.follow_up_at
    if follow_up is not None and follow_up > task.created_at and (
            task.due_at is None or follow_up < task.due_at):
        found.append(jobs.job_row(kind=REMINDER, park_id=task.park_id, due_at=follow_up,
                                  instance_id=task.instance_id, task_id=task.id,
                                  dedupe_key=f"{REMINDER}:{task.id}"))
    if task.due_at is not None:
        found.append(jobs.job_row(kind=OVERDUE, park_id=task.park_id, due_at=task.due_at,
                                  instance_id=task.instance_id, task_id=task.id,
                                  payload={"round": 0}, dedupe_key=f"{OVERDUE}:{task.id}"))
    return found


def pause_promise(instance: Instance, park: Park, steps: Sequence[StepRecord],
                  rows: Mapping[str, HumanTask]) -> dict[str, Any]:
    """The promised date moved later by the time the enterprise held the application.

    Returns the instance's new ``paused_seconds`` and ``promised_at``; nothing if unchanged.
    """
    paused, promised = instance.paused_seconds or 0, instance.promised_at
    moved = False
    for step in steps:
        row = rows.get(step.task_id)
        if row is None or row.status != "completed" or not is_applicant_task(park, row):
            continue
        held = max(step.completed_at - row.created_at, timedelta(0))
        paused += int(held.total_seconds())
        promised = promised + held if promised is not None else None
        moved = True
    return {"paused_seconds": paused, "promised_at": promised} if moved else {}


def _return_step(steps: Sequence[StepRecord], rows: Mapping[str, HumanTask]) -> StepRecord | None:
    return next((step for step in steps
                 if step.outcome == RETURN_OUTCOME and step.task_id in rows), None)


def _returned_to(step: StepRecord) -> str | None:
    target = (step.data or {}).get("return_to")
    return str(target) if target else None


def _reasons(step: StepRecord) -> list[str]:
    reasons = (step.data or {}).get("return_reasons")
    return [str(reason) for reason in reasons] if isinstance(reasons, list) else []


# --- the handlers the worker runs -------------------------------------------------------------


def remind(ctx: JobContext, session: Session, job: Job, now: datetime) -> None:
    """Handle a 'reminder' job: tell whoever holds the task that it is due soon."""
    task = _open_task(session, job)
    if task is None:
        return None
    park = task.instance.park
    notifications.publish(ctx, session, instance=task.instance, kind="due_soon", task=task,
                          people=notifications.holders(session, park, task),
                          key=f"due_soon:{task.id}", details={}, now=now)
    return None


def overdue(ctx: JobContext, session: Session, job: Job, now: datetime) -> datetime | None:
    """Handle an 'overdue' job: tell everyone on the task and escalate; again next working day."""
    task = _open_task(session, job)
    if task is None:
        return None
    instance, park = task.instance, task.instance.park
    round_ = int(job.payload.get("round", 0))
    if round_ == 0:
        webhooks.on_overdue(session, task, now)
    notifications.publish(ctx, session, instance=instance, kind="overdue", task=task,
                          people=notifications.everyone_on(session, park, task),
                          key=f"overdue:{task.id}:{round_}", details={}, now=now)
    group = escalation_group(instance, park, task)
    if group and not is_applicant_task(park, task):
        notifications.publish(ctx, session, instance=instance, kind="escalated", task=task,
                              people=notifications.group_members(session, park.id, [group]),
                              key=f"escalated:{task.id}:{round_}", details={}, now=now)
    job.payload = {**job.payload, "round": round_ + 1}
    return next_working_day(job.due_at, now, park_calendar(park, session))


def next_working_day(last: datetime, now: datetime, calendar: WorkCalendar) -> datetime:
    """The first time after ``now`` that is the clock time of ``last`` on a working day."""
    upcoming = add_working_days(last, 1, calendar)
    while upcoming <= now:
        upcoming = add_working_days(upcoming, 1, calendar)
    return upcoming


def escalation_group(instance: Instance, park: Park, task: HumanTask) -> str | None:
    """The group told when the task runs over: the task's escalationGroup, else the park's."""
    human = version_of(instance.definition).human_tasks.get(task.element_id)
    configured = human.properties.get(ESCALATION_PROPERTY) if human is not None else None
    return configured or park.settings.get("default_escalation_group") or None


def _open_task(session: Session, job: Job) -> HumanTask | None:
    task = session.get(HumanTask, job.task_id) if job.task_id else None
    return task if task is not None and task.status == "open" else None


__all__ = [
    "DEADLINE_KINDS",
    "OVERDUE",
    "REMINDER",
    "deadline_jobs",
    "escalation_group",
    "next_working_day",
    "overdue",
    "pause_promise",
    "remind",
    "sync",
]
