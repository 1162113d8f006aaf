"""Jobs: queueing, claiming, running, retrying with backoff, and incidents.

A worker claims due jobs by leasing them (``locked_by``/``locked_until``) in a short
transaction; PostgreSQL skips rows another worker is claiming (``FOR UPDATE SKIP LOCKED``),
SQLite serializes claims on its write lock. Each job then runs in its own transaction(s).
Leases are short (``LEASE``, 30 s) and the worker renews those it holds while it works
(:func:`renew`), so a slow job keeps its lease and a worker that dies loses its jobs within
seconds. Delivery is at least once: a dead worker's jobs are taken again, so every handler
is idempotent.

Two kinds of handler:

* transactional ones get the job row inside the transaction that also marks it done, so their
  effects and the bookkeeping commit together (reminders, fan-out of notifications);
* standalone ones open their own transactions or talk to the network (firing timers through
  the application service, sending e-mail), and the job is marked done afterwards.

A handler that raises is retried with exponential backoff; after ``MAX_ATTEMPTS`` the job is
``failed``: an incident, listed and retried by an administrator.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from webapp.config import JOB_LEASE, SmtpSettings
from webapp.db import Database
from webapp.models import Instance, Job
from webapp.services.errors import NotFound
from webapp.statements import Entities, Prepared

MAX_ATTEMPTS = 5
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(hours=1)
LEASE = JOB_LEASE
ERROR_TEXT = 4000


@dataclass(frozen=True)
class ClaimedJob:
    """A job leased by one worker, as it was when claimed."""

    id: int
    kind: str
    park_id: str
    instance_id: str | None
    task_id: str | None
    due_at: datetime
    payload: Mapping[str, Any]
    attempts: int


@dataclass(frozen=True)
class JobContext:
    """What handlers may use: the database, the worker's name, the e-mail settings."""

    db: Database
    worker_id: str
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    http_timeout: float = 10.0


# (context, session, job row, now) -> None when done, or the time to run again
TransactionalRun = Callable[[JobContext, Session, Job, datetime], datetime | None]
# decides, once the job row is locked again after a standalone run, when to run it again
Settle = Callable[[Job, datetime], datetime | None]
# (context, job, now) -> None when done, the time to run again, or a Settle
StandaloneRun = Callable[[JobContext, ClaimedJob, datetime], "datetime | Settle | None"]


@dataclass(frozen=True)
class Handler:
    """How to run one kind of job."""

    run: TransactionalRun | StandaloneRun
    transactional: bool


def transactional(run: TransactionalRun) -> Handler:
    """A handler that runs inside the transaction that finishes the job."""
    return Handler(run, transactional=True)


def standalone(run: StandaloneRun) -> Handler:
    """A handler that manages its own transactions (or none)."""
    return Handler(run, transactional=False)


class UnknownJobKind(Exception):
    """No handler is registered for a job's kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"no handler for jobs of kind {kind!r}")


# --- queueing -------------------------------------------------------------------------------


def job_row(*, kind: str, park_id: str, due_at: datetime, instance_id: str | None = None,
            task_id: str | None = None, payload: Mapping[str, Any] | None = None,
            dedupe_key: str | None = None) -> dict[str, Any]:
    """The column values of a new pending job, for :func:`enqueue`."""
    return {"kind": kind, "park_id": park_id, "due_at": due_at, "instance_id": instance_id,
            "task_id": task_id, "payload": dict(payload or {}), "dedupe_key": dedupe_key,
            "attempts": 0, "status": "pending", "created_at": datetime.now(UTC)}


# by "is PostgreSQL": both dialects skip a row whose dedupe key is taken; prepared, on the
# table: every row comes from `job_row`, so all name the same columns
_INSERT_NEW = {
    postgres: Prepared(dialect.insert(Job.__table__).on_conflict_do_nothing(  # type: ignore[arg-type]
        index_elements=[Job.dedupe_key]))
    for postgres, dialect in ((True, postgresql), (False, sqlite))
}


def enqueue(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert jobs in one statement; a job whose dedupe key is already taken is skipped."""
    values = [dict(row) for row in rows]
    if not values:
        return
    connection = session.connection()
    _INSERT_NEW[connection.dialect.name == "postgresql"].run_many(connection, values)


# --- claiming and running -------------------------------------------------------------------


def claim(db: Database, worker_id: str, *, now: datetime, limit: int = 10,
          lease: timedelta = LEASE) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs, oldest due first, to ``worker_id`` for ``lease``."""
    due = (select(Job.id)
           .where(Job.status == "pending", Job.due_at <= now,
                  or_(Job.locked_until.is_(None), Job.locked_until < now))
           .order_by(Job.due_at))
    with db.read() as session:
        # an idle worker only reads: on SQLite a write transaction would block the web's
        if session.scalars(due.limit(1)).first() is None:
            return []
    with db.write() as session:
        ids = list(session.scalars(due.limit(limit).with_for_update(skip_locked=True)))
        if not ids:
            return []
        session.execute(update(Job).where(Job.id.in_(ids))
                        .values(locked_by=worker_id, locked_until=now + lease))
        rows = session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.due_at))
        return [ClaimedJob(row.id, row.kind, row.park_id, row.instance_id, row.task_id,
                           row.due_at, dict(row.payload), row.attempts) for row in rows]


def run(ctx: JobContext, job: ClaimedJob, handlers: Mapping[str, Handler], *,
        now: datetime | None = None) -> str:
    """Run one claimed job: 'done', 'rescheduled', 'retry', 'failed' or 'lost' (taken away)."""
    now = now or datetime.now(UTC)
    try:
        handler = handlers.get(job.kind)
        if handler is None:
            raise UnknownJobKind(job.kind)
        if handler.transactional:
            return _run_in_transaction(ctx, job, handler, now)
        outcome = cast(StandaloneRun, handler.run)(ctx, job, now)
        with ctx.db.write() as session:
            row = _own(session, job, ctx.worker_id)
            if row is None:
                return "done"  # the handler's own transaction removed it
            if outcome is None or isinstance(outcome, datetime):
                return _finish(session, row, outcome)
            return _finish(session, row, outcome(row, now))
    except Exception as exc:  # noqa: BLE001 -- any failure of a job is retried, then an incident
        return record_failure(ctx.db, job, ctx.worker_id, exc, now=datetime.now(UTC))


def _run_in_transaction(ctx: JobContext, job: ClaimedJob, handler: Handler,
                        now: datetime) -> str:
    with ctx.db.write() as session:
        row = _own(session, job, ctx.worker_id)
        if row is None:
            return "lost"
        run = cast(TransactionalRun, handler.run)
        return _finish(session, row, run(ctx, session, row, now))


# every job is owned and finished by these two: prepared, since a burst of due timers runs
# hundreds of them a second
_OWNED = Entities(Job)
_OWN = Prepared(select(*_OWNED.columns).where(
    Job.id == bindparam("job_id"), Job.status == "pending",
    Job.locked_by == bindparam("worker_id")).with_for_update())
_FINISH = Prepared(update(Job).where(Job.id == bindparam("job_id")).values(
    locked_by=None, locked_until=None, status=bindparam("status"), due_at=bindparam("due_at"),
    attempts=bindparam("attempts")))


def _own(session: Session, job: ClaimedJob, worker_id: str) -> Job | None:
    """The job row, locked, if it is still pending and leased to this worker."""
    found = _OWN.rows(session.connection(), {"job_id": job.id, "worker_id": worker_id})
    if not found:
        return None
    # (the session is new: it holds no copy the row would have to refresh)
    (row,) = _OWNED.objects(session, found[0])
    return cast(Job, row)


def _finish(session: Session, row: Job, later: datetime | None) -> str:
    """Release the job: done, or due again at ``later`` with a fresh count of attempts."""
    values = {"status": "done", "due_at": row.due_at, "attempts": row.attempts}
    if later is not None:
        values.update(status="pending", due_at=later, attempts=0)
    _FINISH.run(session.connection(), {"job_id": row.id, **values})
    for key, value in {**values, "locked_by": None, "locked_until": None}.items():
        set_committed_value(row, key, value)
    return "done" if later is None else "rescheduled"


def record_failure(db: Database, job: ClaimedJob, worker_id: str, exc: BaseException, *,
                   now: datetime) -> str:
    """Count a failed attempt: run again after a backoff, or give up as an incident."""
    with db.write() as session:
        row = session.scalars(
            select(Job).where(Job.id == job.id, Job.status == "pending")
            .with_for_update().execution_options(populate_existing=True)).one_or_none()
        if row is None or row.locked_by not in (worker_id, None):
            return "lost"
        row.attempts += 1
        row.last_error = describe_failure(exc)
        row.locked_by = None
        row.locked_until = None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            return "failed"
        row.due_at = now + backoff(row.attempts)
        return "retry"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 10 s, 20 s, 40 s, ... at most 1 h."""
    wait: timedelta = BACKOFF_FIRST * (2 ** max(0, attempts - 1))
    return min(wait, BACKOFF_MAX)


def describe_failure(exc: BaseException) -> str:
    """The error in one line, followed by where it happened (for the incident list)."""
    headline = f"{type(exc).__name__}: {exc}".splitlines()[0]
    where = "".join(traceback.format_exception(exc)[-3:])
    return f"{headline}\n{where}"[:ERROR_TEXT]


def renew(db: Database, jobs: Iterable[ClaimedJob], worker_id: str, *, now: datetime,
          lease: timedelta = LEASE) -> int:
    """Extend the leases this worker still holds on ``jobs`` to ``now + lease``; how many."""
    ids = [job.id for job in jobs]
    if not ids:
        return 0
    with db.write() as session:
        renewed = session.execute(
            update(Job).where(Job.id.in_(ids), Job.status == "pending",
                              Job.locked_by == worker_id)
            .values(locked_until=now + lease))
        return int(renewed.rowcount)  # type: ignore[attr-defined]


def release(db: Database, jobs: Iterable[ClaimedJob], worker_id: str) -> None:
    """Give leased jobs back unrun (the worker is stopping), so others take them at once."""
    ids = [job.id for job in jobs]
    if not ids:
        return
    with db.write() as session:
        session.execute(update(Job).where(Job.id.in_(ids), Job.locked_by == worker_id)
                        .values(locked_by=None, locked_until=None))


# --- incidents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """A job that failed its last retry."""

    id: int
    kind: str
    park_id: str
    reference: str | None
    task_id: str | None
    attempts: int
    due_at: datetime
    last_error: str

    @property
    def reason(self) -> str:
        """The first line of the last error."""
        return self.last_error.splitlines()[0] if self.last_error else "no error recorded"


def incidents(session: Session, *, park_id: str | None = None) -> list[Incident]:
    """Failed jobs, oldest first."""
    stmt = (select(Job, Instance.reference).outerjoin(Instance, Instance.id == Job.instance_id)
            .where(Job.status == "failed").order_by(Job.due_at, Job.id))
    if park_id is not None:
        stmt = stmt.where(Job.park_id == park_id)
    return [Incident(job.id, job.kind, job.park_id, reference, job.task_id, job.attempts,
                     job.due_at, job.last_error or "")
            for job, reference in session.execute(stmt)]


def retry_incident(session: Session, job_id: int, *, now: datetime | None = None) -> Job:
    """Put a failed job back in the queue, due now, with a fresh count of attempts."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status != "failed":
        raise NotFound(f"incident {job_id}")
    job.status = "pending"
    job.due_at = now or datetime.now(UTC)
    job.attempts = 0
    job.locked_by = None
    job.locked_until = None
    return job


__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "ClaimedJob",
    "Handler",
    "Incident",
    "JobContext",
    "UnknownJobKind",
    "backoff",
    "claim",
    "enqueue",
    "incidents",
    "job_row",
    "record_failure",
    "release",
    "renew",
    "retry_incident",
    "run",
    "standalone",
    "transactional",
]
