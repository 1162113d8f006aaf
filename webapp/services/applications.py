"""Applications: start one, complete its tasks, deliver messages, fire timers, cancel, retry.

Each function is one transaction: lock the instance, let the engine act, then write the
instance row and its projections (human tasks, timer jobs, message waits, step history, audit)
together. Concurrent changes to one application serialize on the lock; the loser of a race
for one task finds it no longer open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import (
    Engine,
    EngineError,
    FormDataInvalid,
    NotWaiting,
    ProcessVersion,
    Snapshot,
    TaskNotOpen,
    resolve_due,
)
from forms.fields import NOT_A_FIELD
from webapp.db import Database, lock_instance, take_write_lock
from webapp.models import (
    Enterprise,
    HumanTask,
    Instance,
    Membership,
    Park,
    ProcessDefinition,
    User,
    allocate_reference,
)
from webapp.services import approval_modes, audit, handoffs, taskforms
from webapp.services.accounts import find_user, get_park
from webapp.services.approval_modes import engine_with_people
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.services.loading import task_with_instance
from webapp.services.people import Worker, find_worker, may_work
from webapp.services.processes import get_latest
from webapp.services.projections import nothing_awaited, write_snapshot
from webapp.statements import Prepared, batched


def start_application(
    db: Database,
    *,
    park_slug: str,
    process_key: str,
    data: Mapping[str, Any],
    actor: str,
    enterprise_name: str | None = None,
) -> str:
    """Start the newest version of ``process_key`` for the actor's enterprise; the instance id."""
    with db.write() as session:
        park = get_park(session, park_slug)
        user = _user(session, actor)
        enterprise = _applicant_enterprise(session, park, user, enterprise_name)
        definition = get_latest(session, park, process_key)
        version = version_of(definition)
        engine = engine_with_people(session, park, version, engine_for(park))
        start_form = taskforms.form_of(definition, version.start_form_key)
        taken = taskforms.application_data(start_form, data, enterprise)
        snapshot = _with_application(
            _engine_call(lambda: engine.start(version, taken, actor=actor)), taken)
        now = datetime.now(UTC)
        instance = new_instance(session, park, definition, version, engine,
                                enterprise_id=enterprise.id, started_by=user.id, now=now)
        with batched(session.connection()) as batch:
            write_snapshot(session, instance, park, snapshot, actor=actor, now=now, batch=batch)
            audit.append(session, park_id=park.id, actor=actor, action="application.started",
                         instance_id=instance.id, at=now,
                         details={"process_key": process_key, "version": definition.version,
                                  "reference": instance.reference,
                                  "enterprise": enterprise.name})
        return instance.id


def new_instance(session: Session, park: Park, definition: ProcessDefinition,
                 version: ProcessVersion, engine: Engine, *, enterprise_id: str,
                 started_by: str | None, now: datetime) -> Instance:
    """The row of a new application of ``definition``, numbered and promised, before its
    first step is written (write_snapshot fills its state)."""
    instance = Instance(
        park_id=park.id, definition_id=definition.id, enterprise_id=enterprise_id,
        reference=allocate_reference(session, park, now.year), started_by=started_by,
        started_at=now, state=b"", status="active",
        promised_at=_promised_at(version, engine, now), waits=nothing_awaited(),
    )
    session.add(instance)
    session.flush()
    return instance


def _with_application(snapshot: Snapshot, data: Mapping[str, Any]) -> Snapshot:
    """The start event's step keeps the application as submitted: the first submission a
    correction is compared with (no one decided anything there, so it names no one)."""
    steps = list(snapshot.steps)
    for index, step in enumerate(steps):
        if step.kind == "StartEvent":
            steps[index] = replace(step, data=dict(data))
            return replace(snapshot, steps=tuple(steps))
    return snapshot


def complete_task(db: Database, *, task_id: str, data: Mapping[str, Any], actor: str,
                  check: Callable[[Session, HumanTask], object] | None = None,
                  then: Callable[[Session, Instance], Any] | None = None,
                  known_as: Callable[[Park], Worker | None] | None = None,
                  audit_details: Mapping[str, Any] | None = None) -> Any:
    """Complete an open task as ``actor``; the instance id, or what ``then`` makes of it.

    ``check`` runs first, in the same transaction (a caller's visibility rule: it raises to
    refuse); ``then`` runs after the change is written, before the commit, so a response can
    be built without a second transaction. ``known_as`` gives the actor's standing in the
    task's park when the caller has already read it (the API's signed-in caller).
    ``audit_details`` are added to the ``task.completed`` audit event (a batch says so).

    On SQLite, where one writer at a time holds the whole database, the engine runs before
    the write lock is taken, on what was read just before, and the rows the step writes are
    worked out before it too (the batch holds them back): completions of different
    applications then wait for each other only while their rows are written. Under the lock
    the instance's version and the task's holder are read again; if either changed in the
    meantime, the completion starts over with the lock held from the start.
    """
    try:
        return _complete_task(db, task_id, data, actor, check, then, known_as,
                              lock_later=True, audit_details=audit_details)
    except _MovedOn:
        return _complete_task(db, task_id, data, actor, check, then, known_as,
                              lock_later=False, audit_details=audit_details)


class _MovedOn(Exception):
    """The application changed between the unlocked read and the write lock."""


def _complete_task(db: Database, task_id: str, data: Mapping[str, Any], actor: str,
                   check: Callable[[Session, HumanTask], object] | None,
                   then: Callable[[Session, Instance], Any] | None,
                   known_as: Callable[[Park], Worker | None] | None, *,
                   lock_later: bool, audit_details: Mapping[str, Any] | None = None) -> Any:
    with db.write(lock_later=lock_later) as session:
        task, instance = _lock_task(session, task_id)
        if check is not None:
            check(session, task)
        if task.status != "open":
            raise Conflict(_closed_message(task))
        park = instance.park
        worker = known_as(park) if known_as is not None else find_worker(session, actor, park)
        if worker is None or not worker.is_active:
            raise NotFound(f"user {actor!r}")
        if not may_work(worker, park, instance, task):
            raise Forbidden("you are not among the people this task is waiting for")
        if handoffs.has_handoffs(task):
            if lock_later:
                raise _MovedOn  # hand-offs change rows of their own: lock from the start
            if handoffs.complete(session, task, instance, data, actor):
                session.flush()
                return then(session, instance) if then is not None else instance.id
        version = version_of(instance.definition)
        engine = engine_with_people(session, park, version, engine_for(park))
        taken = taskforms.takes(task, data)
        snapshot = _engine_call(
            lambda: engine.complete_task(version, instance.state, task_id, taken, actor=actor))

        # what the checks and the engine went by (the objects change as the rows are worked out)
        seen = (instance.version, task.status, task.assignee)

        def lock_unchanged() -> None:
            if take_write_lock(session) and _moved_on(session, task_id, seen):
                raise _MovedOn

        now = datetime.now(UTC)
        mode = approval_modes.mode_of(version, task.element_id)
        before = approval_modes.open_before(session, instance, task) if mode else []
        with batched(session.connection()) as batch:
            # the rows are worked out before the write lock (where it is taken late) and
            # written under it: writers wait for each other only while rows go out
            batch.hold_writes(lock_unchanged)
            write_snapshot(session, instance, park, snapshot, actor=actor, now=now, batch=batch)
            audit.append(session, park_id=park.id, actor=actor, action="task.completed",
                         instance_id=instance.id, at=now,
                         details={"task_id": task_id, "element_id": task.element_id,
                                  "name": task.name, "outcome": task.outcome,
                                  **(audit_details or {})})
            if mode:
                approval_modes.record_closed(
                    session, park_id=park.id, instance_id=instance.id, mode=mode, task=task,
                    before=before, snapshot=snapshot, actor=actor, now=now)
            # in the batch: on PostgreSQL the answer's first query rides with the writes (its
            # first query runs the held writes)
            return then(session, instance) if then is not None else instance.id


_NOW_HELD = Prepared(
    select(Instance.version, HumanTask.status, HumanTask.assignee)
    .join(Instance, Instance.id == HumanTask.instance_id)
    .where(HumanTask.id == bindparam("task_id")))


def _moved_on(session: Session, task_id: str, seen: tuple[int, str, str | None]) -> bool:
    """Whether the instance's version or the task's status or holder changed since they were
    ``seen`` (a step bumps the version; a claim or an assignment changes only the task row)."""
    found = _NOW_HELD.rows(session.connection(), {"task_id": task_id})
    return not found or tuple(found[0]) != seen


def deliver_message(db: Database, *, instance_id: str, name: str, payload: Mapping[str, Any],
                    actor: str | None) -> str:
    """Deliver a BPMN message to a waiting application; NotFound if nothing waits for it."""
    return _change(db, instance_id, actor, "message.delivered", {"message": name},
                   lambda engine, version, state: engine.deliver_message(
                       version, state, name, payload, actor=actor))


def fire_timers(db: Database, *, instance_id: str) -> str:
    """Fire the application's due timers (the worker calls this at a timer job's time)."""
    return _change(db, instance_id, None, "timers.fired", {},
                   lambda engine, version, state: engine.fire_due_timers(version, state),
                   quiet=True, resync=True)


def cancel_application(db: Database, *, instance_id: str, actor: str, reason: str = "") -> str:
    """Withdraw an application: its open tasks and timers go away."""
    return _change(db, instance_id, actor, "application.cancelled", {"reason": reason},
                   lambda engine, version, state: engine.cancel(version, state, actor=actor))


def retry_application(db: Database, *, instance_id: str, actor: str) -> str:
    """Run an application's failed step again after its cause was fixed."""
    return _change(db, instance_id, actor, "application.retried", {},
                   lambda engine, version, state: engine.retry(version, state, actor=actor))


Act = Callable[[Engine, ProcessVersion, bytes], Snapshot]


def _change(db: Database, instance_id: str, actor: str | None, action: str,
            details: dict[str, Any], act: Act, *, quiet: bool = False,
            resync: bool = False) -> str:
    with db.write() as session:
        instance = lock_instance(session, instance_id)
        if instance.status in ("completed", "cancelled"):
            raise Conflict(f"application {instance.reference} is already {instance.status}")
        park = instance.park
        version = version_of(instance.definition)
        engine = engine_with_people(session, park, version, engine_for(park))
        snapshot = _engine_call(lambda: act(engine, version, instance.state))
        write_snapshot(session, instance, park, snapshot, actor=actor,
                       now=datetime.now(UTC), resync=resync)
        if not quiet or snapshot.steps:
            audit.record(session, park_id=park.id, actor=actor, action=action,
                         instance_id=instance.id,
                         details={**details, "steps": [s.element_id for s in snapshot.steps]})
        return instance.id


def _engine_call(call: Callable[[], Snapshot]) -> Snapshot:
    try:
        return call()
    except FormDataInvalid as exc:
        raise Invalid(_form_problem(exc.errors), details=exc.errors) from exc
    except TaskNotOpen as exc:
        raise Conflict(f"this task is no longer open: {exc.reason}") from exc
    except NotWaiting as exc:
        raise NotFound(exc.what) from exc
    except StaleDataError as exc:
        raise Conflict("the application was changed by someone else; reload it") from exc
    except EngineError as exc:
        raise Invalid(str(exc)) from exc


def _form_problem(errors: Mapping[str, list[str]]) -> str:
    strangers = [name for name, messages in errors.items() if NOT_A_FIELD in messages]
    if strangers:
        return f"fields this form does not define: {', '.join(strangers)}"
    return "the form has errors"


def _lock_task(session: Session, task_id: str) -> tuple[HumanTask, Instance]:
    """The task and its instance (with what a step needs of it), both rows locked for the
    rest of the transaction."""
    found = task_with_instance(session, task_id, lock=True)
    if found is None:
        raise NotFound(f"task {task_id!r}")
    # the task row is locked too: after waiting for the lock, PostgreSQL (read committed)
    # returns the newest version of every locked row, so the loser of a race sees the task
    # completed. SQLite either took its write lock before reading anything, or reads first
    # and checks what it read once it holds the lock (see complete_task).
    return found


def _closed_message(task: HumanTask) -> str:
    if task.status == "completed":
        who = f" by {task.completed_by}" if task.completed_by else ""
        return f"“{task.name}” was already completed{who}; reload to see where the application is"
    return f"“{task.name}” is no longer open (the application moved on or was withdrawn)"


def _user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None or not user.is_active:
        raise NotFound(f"user {username!r}")
    return user


def _applicant_enterprise(session: Session, park: Park, user: User,
                          enterprise_name: str | None) -> Enterprise:
    membership = session.get(Membership, (user.id, park.id))
    if membership is None:
        raise NotFound(f"park {park.slug!r}")
    if membership.role == "enterprise":
        assert membership.enterprise is not None
        return membership.enterprise
    if membership.role != "admin":
        raise Forbidden("only enterprise users and park administrators can start applications")
    if not enterprise_name:
        raise Invalid("name the enterprise this application is for", details={
            "enterprise": ["is required when an administrator applies"]})
    enterprise = session.scalars(select(Enterprise).where(
        Enterprise.park_id == park.id, Enterprise.name == enterprise_name)).one_or_none()
    if enterprise is None:
        raise NotFound(f"enterprise {enterprise_name!r}")
    return enterprise


def _promised_at(version: ProcessVersion, engine: Engine, now: datetime) -> datetime | None:
    if not version.promised_duration:
        return None
    return resolve_due(version.promised_duration, start=now, calendar=engine.calendar)


__all__ = [
    "cancel_application",
    "complete_task",
    "deliver_message",
    "fire_timers",
    "new_instance",
    "retry_application",
    "start_application",
]
