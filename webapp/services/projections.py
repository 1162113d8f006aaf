"""Writing an engine snapshot: the instance row and everything derived from it, together."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine import OpenTask, Snapshot, StepRecord, TimerWait
from webapp.models import HumanTask, Instance, Job, MessageWait, Park, StepHistory
from webapp.models.tasks import group_of
from webapp.services import (
    copies,
    deadlines,
    external_tasks,
    facts,
    jobs,
    printout,
    substitutes,
    webhooks,
)
from webapp.services.calendars import park_calendar
from webapp.services.engines import version_of
from webapp.services.loading import held_task
from webapp.services.taskrules import rule_jobs
from webapp.services.thrown_messages import message_jobs
from webapp.statements import Batch, Prepared, batched

SUMMARY_KEYS = 40
SUMMARY_TEXT = 200


def write_snapshot(session: Session, instance: Instance, park: Park, snapshot: Snapshot, *,
                   actor: str | None, now: datetime, resync: bool = False,
                   batch: Batch | None = None) -> None:
    """Store ``snapshot`` for ``instance``: state, tasks, timers, waits and history.

    Timer jobs and message waits are rewritten only when what the instance waits for
    changed, or always with ``resync`` (the worker firing a job that may be stale).

    This runs on every step, so the rows go out as prepared statements rather than through
    the session's unit of work; the objects at hand (the instance, the task rows) are then
    set to what was written, as if the session had flushed them. They go out as one
    :class:`~webapp.statements.Batch`: the caller's ``batch`` when it has one open (to add
    its own statements), else a batch of their own.
    """
    with nullcontext(batch) if batch is not None else batched(session.connection()) as ours, \
            session.no_autoflush:
        changes = _write(session, instance, park, snapshot, now, resync)
        _update_instance(session, instance, changes, ours)


def _write(session: Session, instance: Instance, park: Park, snapshot: Snapshot,
           now: datetime, resync: bool) -> dict[str, Any]:
    """Write everything but the instance row; what the instance row must become."""
    waits = _waits(snapshot)
    changes: dict[str, Any] = {
        "state": snapshot.state, "status": snapshot.status, "error": _error(snapshot),
        "correlations": {k: dict(v) for k, v in snapshot.correlations.items()},
        "data_summary": summarize(snapshot.data), "waits": waits}
    if snapshot.status in ("completed", "cancelled") and instance.ended_at is None:
        changes["ended_at"] = now
        changes["result"] = ended_result(instance, snapshot)
    steps = {step.task_id: step for step in snapshot.steps}
    known = None if resync else instance.waits
    known_tasks = known.get("tasks") if known is not None else None
    rows, new_rows, closed = _sync_tasks(session, instance, snapshot.open_tasks, steps, now,
                                         known_tasks)
    if new_rows:
        substitutes.hand_over(session, instance, new_rows, now)
    queued: list[dict[str, Any]] = _model_copies(session, instance, park, snapshot, new_rows,
                                                 known, now)
    if known is None or known.get("timers") != waits["timers"]:
        queued += _sync_timers(session, instance, snapshot,
                               None if known is None else known["timers"])
    if known is None or known.get("messages") != waits["messages"]:
        _sync_waits(session, instance, snapshot)
    known_external = (instance.waits or {}).get("external", [])
    if known_external != waits.get("external", []):
        external_tasks.sync(session, instance, snapshot, known_external, now)
    if snapshot.steps:
        _INSERT_HISTORY.run_many(session.connection(), _history(instance, snapshot.steps))
    queued += deadlines.sync(
        session, instance, park, snapshot, now, rows=rows, changes=changes,
        opened=None if known_tasks is None else [row.id for row in new_rows],
        closed=None if known_tasks is None else closed)
    # after deadlines.sync: it settles the new tasks' follow-up times
    if "ended_at" in changes:
        # the days the supervision figures count, fixed now that it ended
        calendar = park_calendar(park, session)
        changes.update(facts.ended_days(
            {key: changes.get(key, getattr(instance, key))
             for key in ("started_at", "ended_at", "promised_at", "paused_seconds")},
            calendar))
        facts.date_tasks(session, instance, park, calendar)
    if new_rows:
        _INSERT_TASK.run_many(session.connection(), [_task_values(row) for row in new_rows])
    # the messages the step threw go out with it, or not at all
    queued += message_jobs(instance, snapshot, now)
    if "ended_at" in changes:
        # its 审批单 cannot change any more: the worker keeps it now
        queued.append(printout.archive_job(instance, now))
    if new_rows:
        queued += rule_jobs(instance, snapshot, [row.id for row in new_rows], now)
    if webhooks.wanted(park):  # the park's row says: no query without a subscription
        queued += webhooks.on_snapshot(session, instance, park, snapshot,
                                       started=not instance.state, now=now)
    jobs.enqueue(session, queued)
    return changes


def _model_copies(session: Session, instance: Instance, park: Park, snapshot: Snapshot,
                  new_rows: list[HumanTask], known: dict[str, Any] | None,
                  now: datetime) -> list[dict[str, Any]]:
    """Copies (抄送) the model asks for: on the tasks just reached, and on the process when
    the application is submitted (its first write: nothing awaited yet). Without a ``cc``
    property anywhere, nothing is read."""
    opened = [task for task in snapshot.open_tasks if task.cc] if new_rows else []
    process_cc = (version_of(instance.definition).cc
                  if known == nothing_awaited() and instance.ended_at is None else ())
    if not opened and not process_cc:
        return []
    new_ids = {row.id for row in new_rows}
    return copies.model_copies(session, instance, park,
                               [task for task in opened if task.task_id in new_ids],
                               process_cc, now)


def _update_instance(session: Session, instance: Instance, changes: dict[str, Any],
                     batch: Batch) -> None:
    """One UPDATE of the instance row, checking and bumping its version like the ORM does."""
    version = instance.version
    done = _UPDATE_INSTANCE.run(session.connection(), {
        **{key: changes.get(key, getattr(instance, key)) for key in _INSTANCE_COLUMNS},
        "instance_id": instance.id, "old_version": version, "new_version": version + 1})
    instance_id = instance.id
    batch.expect(done, 1, lambda: StaleDataError(
        f"instance {instance_id} changed under this transaction"))
    for key, value in changes.items():
        set_committed_value(instance, key, value)
    set_committed_value(instance, "version", version + 1)


def ended_result(instance: Instance, snapshot: Snapshot) -> str | None:
    """How the application ended: cancelled, or what the end event it reached declares."""
    if snapshot.status == "cancelled":
        return "cancelled"
    declared = version_of(instance.definition).end_results
    reached = [step.element_id for step in snapshot.steps if step.element_id in declared]
    return declared[reached[-1]] if reached else None


def nothing_awaited() -> dict[str, Any]:
    """What a new instance waits for before its first snapshot is written: nothing, so the
    first write reads back no task rows, timer jobs or deadlines (there are none yet)."""
    return {"tasks": [], "timers": {}, "messages": []}


def _waits(snapshot: Snapshot) -> dict[str, Any]:
    """What the instance waits for, comparable with the last one written: its open tasks,
    timers and messages, and external tasks when it has some."""
    waits: dict[str, Any] = {
        "tasks": sorted(task.task_id for task in snapshot.open_tasks),
        "timers": {t.task_id: t.due_at.isoformat() for t in snapshot.timers},
        "messages": sorted([w.name, correlation_key(w.correlation) if w.correlation else None]
                           for w in snapshot.awaited_messages)}
    if snapshot.external_tasks:
        waits["external"] = external_tasks.waiting_ids(snapshot)
    return waits


def summarize(data: Any) -> dict[str, Any]:
    """The small, scalar part of the application data, for lists and search."""
    summary: dict[str, Any] = {}
    for key, value in list(data.items())[:SUMMARY_KEYS]:
        if isinstance(value, str):
            summary[key] = value[:SUMMARY_TEXT]
        elif isinstance(value, bool | int | float) or value is None:
            summary[key] = value
    return summary


def _error(snapshot: Snapshot) -> dict[str, Any] | None:
    if snapshot.error is None:
        return None
    return {"element_id": snapshot.error.element_id, "line": snapshot.error.line,
            "message": snapshot.error.message}


# prepared: written on every step (see webapp.statements)
_INSERT_HISTORY = Prepared(insert(StepHistory.__table__))  # type: ignore[arg-type]
_TIMER_JOBS = select(Job).where(Job.instance_id == bindparam("instance_id"), Job.kind == "timer",
                                Job.status == "pending")
_INSERT_TASK = Prepared(insert(HumanTask.__table__))  # type: ignore[arg-type]
_INSERT_WAIT = Prepared(insert(MessageWait.__table__))  # type: ignore[arg-type]
_DROP_WAITS = Prepared(delete(MessageWait).where(
    MessageWait.instance_id == bindparam("instance_id")))
_TASKS: Table = HumanTask.__table__  # type: ignore[assignment]
_CLOSE_TASK = Prepared(
    update(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
    .values(status=bindparam("status"), completed_at=bindparam("completed_at"),
            completed_by=bindparam("completed_by"), outcome=bindparam("outcome")))
_INSTANCES: Table = Instance.__table__  # type: ignore[assignment]
_INSTANCE_COLUMNS = ("state", "status", "error", "correlations", "data_summary", "waits",
                     "ended_at", "paused_seconds", "promised_at", "result", "receipt_day",
                     "end_day", "promise_day")
_UPDATE_INSTANCE = Prepared(
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("instance_id"),
           _INSTANCES.c.version == bindparam("old_version"))
    .values(version=bindparam("new_version"),
            **{key: bindparam(key) for key in _INSTANCE_COLUMNS}))
_DROP_TIMER_JOB = Prepared(delete(Job).where(
    Job.instance_id == bindparam("instance_id"), Job.kind == "timer", Job.status == "pending",
    Job.task_id == bindparam("task_id")))
# the engine's tasks: their hand-offs' rows (parent_id set) are no task of the engine's
_OPEN_TASKS = select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"),
                                     HumanTask.status == "open", HumanTask.parent_id.is_(None))
_CANCEL_EXTRAS = Prepared(
    update(_TASKS).where(_TASKS.c.parent_id == bindparam("task_id"), _TASKS.c.status == "open")
    .values(status="cancelled", completed_at=bindparam("completed_at")))


def _sync_tasks(session: Session, instance: Instance, open_tasks: tuple[OpenTask, ...],
               steps: dict[str, StepRecord], now: datetime, known: list[str] | None
               ) -> tuple[dict[str, HumanTask], list[HumanTask], list[str]]:
    """Close the rows of tasks that left and make rows for new ones (inserted by the caller).

    ``known`` are the ids of the tasks open before this step, as the last step wrote them;
    without them the open rows are read. Returns the rows at hand by id (the closed ones this
    session holds or read, and the new ones), the new rows, and the ids of the closed tasks.
    """
    if known is None:
        rows = {row.id: row
                for row in session.scalars(_OPEN_TASKS, {"instance_id": instance.id})}
        before = set(rows)
    else:
        rows, before = {}, set(known)
    wanted = {task.task_id for task in open_tasks}
    closed = [task_id for task_id in before if task_id not in wanted]
    closing = {task_id: _closing(steps.get(task_id), now) for task_id in closed}
    for task_id, values in closing.items():
        row = rows.get(task_id) or held_task(session, task_id)
        if row is not None:
            for key, value in values.items():
                set_committed_value(row, key, value)
            rows[task_id] = row
    if closing:
        _CLOSE_TASK.run_many(session.connection(), [
            {"task_id": task_id, **values} for task_id, values in closing.items()])
        # a closed task's delegation and added signatures close with it; a row at hand
        # without hand-offs has none (the usual completion: no statement)
        extras = [task_id for task_id in closing
                  if task_id not in rows or rows[task_id].handoff is not None]
        if extras:
            _CANCEL_EXTRAS.run_many(session.connection(), [
                {"task_id": task_id, "completed_at": now} for task_id in extras])
    new_rows = [_new_task(instance, task, now) for task in open_tasks
                if task.task_id not in before]
    rows.update((row.id, row) for row in new_rows)
    return rows, new_rows, closed


def _closing(step: StepRecord | None, now: datetime) -> dict[str, Any]:
    """How a task row ends: completed by the step that ran it, else cancelled now."""
    if step is None:
        return {"status": "cancelled", "completed_at": now, "completed_by": None,
                "outcome": None}
    return {"status": "completed", "completed_at": step.completed_at,
            "completed_by": step.completed_by, "outcome": step.outcome}


def _new_task(instance: Instance, task: OpenTask, now: datetime) -> HumanTask:
    return HumanTask(
        id=task.task_id, instance_id=instance.id, park_id=instance.park_id,
        element_id=task.element_id, name=task.name, lane=task.lane,
        candidate_groups=list(task.candidate_groups), candidate_users=list(task.candidate_users),
        group_name=group_of(task.lane, list(task.candidate_groups)),
        assignee=task.assignee, form_key=task.form_key,
        priority=task.priority if task.priority is not None else 50,
        created_at=now, due_at=task.due_at, follow_up_at=task.follow_up_at, status="open",
        received_at=instance.started_at,
    )


def _sync_timers(session: Session, instance: Instance, snapshot: Snapshot,
                 known: dict[str, str] | None) -> list[dict[str, Any]]:
    """One pending job per waiting timer; a timer no longer waited for loses its job.

    ``known`` is what the last step wrote (task id -> due time); with it the jobs need not
    be read back, only the difference is written. Returns the jobs of new timers, to queue.
    """
    wanted = {timer.task_id: timer for timer in snapshot.timers}
    if known is not None and all(wanted[t].due_at.isoformat() == due
                                 for t, due in known.items() if t in wanted):
        gone = [task_id for task_id in known if task_id not in wanted]
        _DROP_TIMER_JOB.run_many(session.connection(), [
            {"instance_id": instance.id, "task_id": task_id} for task_id in gone])
        return _timer_jobs(instance, [t for t in wanted.values() if t.task_id not in known])
    jobs = session.scalars(_TIMER_JOBS, {"instance_id": instance.id}).all()
    for job in jobs:
        timer = wanted.pop(job.task_id or "", None)
        if timer is None:
            session.delete(job)
        elif job.due_at != timer.due_at:
            job.due_at = timer.due_at
    return _timer_jobs(instance, list(wanted.values()))


def _task_values(row: HumanTask) -> dict[str, Any]:
    return {column: getattr(row, column) for column in _TASK_COLUMNS}


_TASK_COLUMNS = tuple(column.key for column in HumanTask.__table__.columns)


def _timer_jobs(instance: Instance, timers: list[TimerWait]) -> list[dict[str, Any]]:
    return [jobs.job_row(kind="timer", park_id=instance.park_id, due_at=timer.due_at,
                         instance_id=instance.id, task_id=timer.task_id,
                         payload={"element_id": timer.element_id}) for timer in timers]


def _sync_waits(session: Session, instance: Instance, snapshot: Snapshot) -> None:
    connection = session.connection()
    _DROP_WAITS.run(connection, {"instance_id": instance.id})
    if snapshot.awaited_messages:
        _INSERT_WAIT.run_many(connection, [
            {"instance_id": instance.id, "park_id": instance.park_id, "message_name": wait.name,
             "correlation_key": correlation_key(wait.correlation) if wait.correlation else None}
            for wait in snapshot.awaited_messages])


def correlation_key(values: Any) -> str:
    """A stable text form of correlation values, for indexed lookup."""
    return orjson.dumps(dict(values), option=orjson.OPT_SORT_KEYS).decode()


def _history(instance: Instance, steps: tuple[StepRecord, ...]) -> list[dict[str, Any]]:
    return [{"instance_id": instance.id, "task_id": step.task_id,
             "element_id": step.element_id, "name": step.name[:255], "kind": step.kind[:40],
             "lane": step.lane, "completed_at": step.completed_at,
             "completed_by": step.completed_by, "outcome": step.outcome,
             "data": dict(step.data) if step.data is not None else None}
            for step in steps]
