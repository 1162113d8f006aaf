"""External tasks: outside workers fetch and lock them, then complete, fail or throw an error.

A task is offered to a worker when it is open, past its retry time (``available_at``) and not
locked, or its lock has expired. On PostgreSQL, workers fetching at the same moment skip the
rows another is locking (``FOR UPDATE SKIP LOCKED``), so no two get the same task; SQLite
serializes them on its write lock. Every report names the worker and must come while its lock
holds; otherwise the task may already be someone else's, and the report is refused (409).

A failure with retries left offers the task again after ``retry_seconds``; with none left the
task is ``failed``: an incident (a failed job of kind ``external_task``) an administrator
retries from /admin/incidents, which offers the task once more. A BPMN error nothing catches
is an incident too. The rows are written beside the instance by ``sync`` (called from
``projections``) from what the engine reports waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine import HTTP_TOPIC, EngineError, ErrorNotCaught, FormDataInvalid, Snapshot, TaskNotOpen
from webapp.db import Database, lock_instance
from webapp.models import ExternalTask, Instance, Job
from webapp.services import audit, http_connector, jobs
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Conflict, Invalid, NotFound
from webapp.services.jobs import JobContext

INCIDENT = "external_task"
ERROR_TEXT = 4000


@dataclass(frozen=True)
class WorkerCall:
    """Who reports on external tasks: the parks the caller may work in and the audit name."""

    actor: str
    park_ids: frozenset[str]
    worker_id: str


@dataclass(frozen=True)
class Topic:
    """One topic a worker fetches, and how long it keeps what it locks."""

    name: str
    lock_seconds: int


# --- projection ----------------------------------------------------------------------------


def waiting_ids(snapshot: Snapshot) -> list[str]:
    """The ids of the external tasks the instance waits for, as ``waits`` keeps them."""
    return sorted(task.task_id for task in snapshot.external_tasks)


def sync(
    session: Session, instance: Instance, snapshot: Snapshot, known: Sequence[str], now: datetime
) -> None:
    """Open rows for the external tasks that began waiting and close those that left.

    ``known`` are the ids the last step left waiting. A task that left without its worker
    (a boundary event, a withdrawal) is cancelled; the services close the ones they finish.
    """
    wanted = {task.task_id: task for task in snapshot.external_tasks}
    for task_id in [task_id for task_id in wanted if task_id not in known]:
        task = wanted[task_id]
        session.add(
            ExternalTask(
                id=task.task_id,
                instance_id=instance.id,
                park_id=instance.park_id,
                element_id=task.element_id,
                name=task.name[:255],
                topic=task.topic[:255],
                variables=dict(task.variables),
                status="open",
                available_at=now,
                created_at=now,
            )
        )
    # the HTTP connector's tasks are called by the job worker, queued with the task
    jobs.enqueue(
        session,
        http_connector.call_jobs(
            instance.park_id,
            instance.id,
            [wanted[task_id] for task_id in wanted if task_id not in known],
            now,
        ),
    )
    gone = [task_id for task_id in known if task_id not in wanted]
    if gone:
        session.execute(
            update(ExternalTask)
            .where(ExternalTask.id.in_(gone), ExternalTask.status.in_(("open", "failed")))
            .values(status="cancelled", completed_at=now, lock_expires_at=None)
        )
    session.flush()


# --- fetch and lock ------------------------------------------------------------------------


def fetch_and_lock(
    db: Database, call: WorkerCall, *, topics: Iterable[Topic], max_tasks: int, now: datetime
) -> list[dict[str, Any]]:
    """Lock up to ``max_tasks`` offered tasks of ``topics`` to the worker; what it is given."""
    locked: list[dict[str, Any]] = []
    with db.write() as session:
        for topic in topics:
            if len(locked) >= max_tasks or not call.park_ids:
                break
            if topic.name == HTTP_TOPIC:
                continue  # the HTTP connector's tasks are the job worker's own
            rows = session.scalars(
                select(ExternalTask)
                .where(
                    ExternalTask.park_id.in_(call.park_ids),
                    ExternalTask.topic == topic.name,
                    ExternalTask.status == "open",
                    ExternalTask.available_at <= now,
                    or_(
                        ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now
                    ),
                )
                .order_by(ExternalTask.available_at, ExternalTask.id)
                .limit(max_tasks - len(locked))
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.worker_id = call.worker_id
                row.lock_expires_at = now + timedelta(seconds=topic.lock_seconds)
                _audit(
                    session,
                    call,
                    row,
                    "external.locked",
                    now,
                    lock_expires_at=row.lock_expires_at.isoformat(),
                )
                locked.append(
                    {
                        "id": row.id,
                        "topic": row.topic,
                        "instance_id": row.instance_id,
                        "variables": row.variables,
                        "retries": row.retries,
                    }
                )
    return locked


# --- reports -------------------------------------------------------------------------------


def complete(
    db: Database, call: WorkerCall, task_id: str, *, variables: Mapping[str, Any], now: datetime
) -> None:
    """Complete a locked task with the worker's variables; the application runs on."""
    with db.write() as session:
        row, instance = _locked(session, call, task_id, now)
        _close(session, row, "completed", now)
        version, engine = version_of(instance.definition), engine_for(instance.park)
        snapshot = _engine_call(
            lambda: engine.complete_external_task(
                version, instance.state, task_id, variables, actor=call.worker_id
            )
        )
        _write(session, instance, snapshot, call, now)
        _audit(session, call, row, "external.completed", now, variables=sorted(variables))


def report_failure(
    db: Database,
    call: WorkerCall,
    task_id: str,
    *,
    message: str,
    retries: int,
    retry_seconds: int,
    now: datetime,
) -> None:
    """Record a worker's failure: offered again after ``retry_seconds``, or an incident."""
    with db.write() as session:
        row, _ = _locked(session, call, task_id, now)
        row.retries, row.error = retries, message[:ERROR_TEXT]
        row.worker_id, row.lock_expires_at = None, None
        row.available_at = now + timedelta(seconds=retry_seconds)
        if retries == 0:
            _raise_incident(session, row, f"{row.topic}: {message}", now)
        _audit(
            session,
            call,
            row,
            "external.failed",
            now,
            message=message,
            retries=retries,
            retry_seconds=retry_seconds,
            incident=retries == 0,
        )


def throw_bpmn_error(
    db: Database,
    call: WorkerCall,
    task_id: str,
    *,
    code: str,
    message: str,
    variables: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Throw BPMN error ``code`` at the task; False when nothing caught it (an incident)."""
    with db.write() as session:
        row, instance = _locked(session, call, task_id, now)
        version, engine = version_of(instance.definition), engine_for(instance.park)
        try:
            snapshot = _engine_call(
                lambda: engine.throw_external_error(
                    version, instance.state, task_id, code, variables, actor=call.worker_id
                )
            )
        except ErrorNotCaught as exc:
            row.error = f"{code}: {message}"[:ERROR_TEXT]
            row.worker_id, row.lock_expires_at = None, None
            _raise_incident(session, row, f"{row.topic}: {exc}", now)
            _audit(
                session,
                call,
                row,
                "external.bpmn_error",
                now,
                code=code,
                message=message,
                caught=False,
            )
            return False
        row.error = f"{code}: {message}"[:ERROR_TEXT]
        _close(session, row, "bpmn_error", now)
        _write(session, instance, snapshot, call, now)
        _audit(
            session, call, row, "external.bpmn_error", now, code=code, message=message, caught=True
        )
        return True


def extend_lock(
    db: Database, call: WorkerCall, task_id: str, *, seconds: int, now: datetime
) -> None:
    """Keep a locked task ``seconds`` longer, from now."""
    with db.write() as session:
        row, _ = _locked(session, call, task_id, now)
        row.lock_expires_at = now + timedelta(seconds=seconds)
        _audit(
            session,
            call,
            row,
            "external.locked",
            now,
            extended=True,
            lock_expires_at=row.lock_expires_at.isoformat(),
        )


def reopen_after_incident(
    ctx: JobContext, session: Session, job: Job, now: datetime
) -> datetime | None:
    """The worker's handler of a retried incident: offer the failed task again, once."""
    row = session.get(ExternalTask, job.task_id or "", with_for_update=True)
    if row is not None and row.status == "failed":
        row.status, row.retries, row.available_at = "open", 1, now
        row.worker_id, row.lock_expires_at = None, None
    return None


# --- helpers -------------------------------------------------------------------------------


def _locked(
    session: Session, call: WorkerCall, task_id: str, now: datetime
) -> tuple[ExternalTask, Instance]:
    """The task and its instance, both locked, if the task is still locked to this worker."""
    found = session.get(ExternalTask, task_id) if len(task_id) <= 36 else None
    if found is None or found.park_id not in call.park_ids:
        raise NotFound(f"external task {task_id!r}")
    instance = lock_instance(session, found.instance_id)
    row = session.scalars(
        select(ExternalTask)
        .where(ExternalTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.status != "open":
        raise Conflict(f"external task {task_id} is no longer open ({row.status})")
    if row.worker_id != call.worker_id or row.lock_expires_at is None:
        raise Conflict(f"external task {task_id} is not locked to worker {call.worker_id!r}")
    if row.lock_expires_at <= now:
        raise Conflict(
            f"the lock of worker {call.worker_id!r} on external task {task_id} "
            "has expired; fetch the task again"
        )
    return row, instance


def _close(session: Session, row: ExternalTask, status: str, now: datetime) -> None:
    # closed before the snapshot is written, which then leaves only unfinished rows to cancel
    row.status, row.completed_at, row.lock_expires_at = status, now, None
    session.flush()


def _write(
    session: Session, instance: Instance, snapshot: Snapshot, call: WorkerCall, now: datetime
) -> None:
    from webapp.services.projections import write_snapshot  # projections calls ``sync``

    write_snapshot(session, instance, instance.park, snapshot, actor=call.actor, now=now)


def _raise_incident(session: Session, row: ExternalTask, reason: str, now: datetime) -> None:
    row.status = "failed"
    session.add(
        Job(
            kind=INCIDENT,
            park_id=row.park_id,
            instance_id=row.instance_id,
            task_id=row.id,
            due_at=now,
            attempts=1,
            status="failed",
            payload={"element_id": row.element_id, "topic": row.topic},
            last_error=reason[:ERROR_TEXT],
        )
    )


def _audit(
    session: Session, call: WorkerCall, row: ExternalTask, action: str, now: datetime, **extra: Any
) -> None:
    audit.append(
        session,
        park_id=row.park_id,
        actor=call.actor,
        action=action,
        instance_id=row.instance_id,
        at=now,
        details={
            "task_id": row.id,
            "element_id": row.element_id,
            "name": row.name,
            "topic": row.topic,
            "worker_id": call.worker_id,
            **extra,
        },
    )


def _engine_call(call: Any) -> Snapshot:
    try:
        snapshot: Snapshot = call()
    except FormDataInvalid as exc:
        raise Invalid("these variables cannot be set", details=exc.errors) from exc
    except TaskNotOpen as exc:
        raise Conflict(f"this external task is no longer open: {exc.reason}") from exc
    except ErrorNotCaught:
        raise
    except EngineError as exc:
        raise Invalid(str(exc)) from exc
    return snapshot


__all__ = [
    "INCIDENT",
    "Topic",
    "WorkerCall",
    "complete",
    "extend_lock",
    "fetch_and_lock",
    "reopen_after_incident",
    "report_failure",
    "sync",
    "throw_bpmn_error",
    "waiting_ids",
]
