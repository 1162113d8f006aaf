"""The job worker: claims due jobs and runs them, until told to stop.

Any number of workers may run against PostgreSQL; claims skip each other's rows. Idle, a
worker looks for due jobs every ``idle_seconds`` (a quarter of a second), so a timer fires
well within a second of its time. While it works through a batch, a heartbeat thread renews
the batch's leases every third of the lease, so a job may run longer than its lease, and the
jobs of a worker that was killed are free again one lease (30 s) after its last heartbeat.
``stop()`` (SIGTERM) lets the job in hand finish, hands the rest of the claimed batch back,
and returns from ``run_forever``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError

from webapp.config import SmtpSettings
from webapp.db import Database
from webapp.models import Instance, Job
from webapp.services import (
    applications,
    deadlines,
    external_tasks,
    http_connector,
    jobs,
    messaging,
    notifications,
    printout,
    ratings,
    taskrule_actions,
    taskrules,
    webhooks,
)
from webapp.services.errors import Conflict, NotFound
from webapp.services.jobs import ClaimedJob, Handler, JobContext
from webapp.services.thrown_messages import MESSAGE

logger = logging.getLogger("parkflow.worker")

IDLE_SECONDS = 0.25
BATCH = 5
# after a lost database connection, wait this long before trying again
RECONNECT_SECONDS = 2.0
_TICK = timedelta(microseconds=1)


class TimerNotFired(Exception):
    """A timer job came due but the application still waits for the timer."""

    def __init__(self, instance_id: str, task_id: str | None) -> None:
        self.instance_id = instance_id
        self.task_id = task_id
        super().__init__(f"the timer {task_id} of application {instance_id} is due but did "
                         "not fire")


def fire_timer(ctx: JobContext, job: ClaimedJob, now: datetime) -> jobs.Settle | None:
    """Handle a 'timer' job: let the application's due timers fire.

    A timer the application no longer waits for has lost its job already; should the job
    still reach here (claimed just before), the application's state decides: the engine fires
    only timers that are waiting and due.
    """
    if job.instance_id is None:
        return None
    try:
        applications.fire_timers(ctx.db, instance_id=job.instance_id)
    except (Conflict, NotFound):
        if _ended(ctx.db, job.instance_id):
            return None
        raise
    # a timer that fired took its job with it; a job still there is a timer still waiting
    return lambda row, at: _still_waiting(row, at, job)


def _ended(db: Database, instance_id: str) -> bool:
    with db.read() as session:
        instance = session.get(Instance, instance_id)
        return instance is None or instance.status in ("completed", "cancelled")


def _still_waiting(row: Job, now: datetime, job: ClaimedJob) -> datetime:
    if row.due_at > now:
        return row.due_at  # the next round of a cycle, or a due time that moved
    if row.due_at == now:
        return now + _TICK  # a timer fires once its time has passed, not at the instant
    raise TimerNotFired(job.instance_id or "", job.task_id)


def leave_record(_ctx: JobContext, _job: ClaimedJob, _now: datetime) -> None:
    """Handle an 'archive' job in a worker that draws no pages: the 审批单 is then kept the
    first time it is printed (``parkflow worker`` draws it: see webapp.cli.worker)."""


HANDLERS: Mapping[str, Handler] = {
    "timer": jobs.standalone(fire_timer),
    deadlines.REMINDER: jobs.transactional(deadlines.remind),
    deadlines.OVERDUE: jobs.transactional(deadlines.overdue),
    "event": jobs.transactional(notifications.announce),
    "notify": jobs.standalone(notifications.deliver),
    MESSAGE: jobs.transactional(messaging.deliver_thrown),
    taskrules.RULES_JOB: jobs.transactional(taskrule_actions.apply_rules),
    taskrules.TIMEOUT_JOB: jobs.transactional(taskrule_actions.on_timeout),
    external_tasks.INCIDENT: jobs.transactional(external_tasks.reopen_after_incident),
    printout.ARCHIVE_JOB: jobs.standalone(leave_record),
    http_connector.JOB: jobs.standalone(http_connector.run_call),
    webhooks.JOB: jobs.standalone(webhooks.deliver),
    ratings.INVITE_JOB: jobs.transactional(ratings.invite),
}


def default_worker_id() -> str:
    """host:pid:random, so that leases name the process that holds them."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    """Claims due jobs in batches and runs each in its own transaction."""

    def __init__(self, db: Database, *, smtp: SmtpSettings | None = None,
                 handlers: Mapping[str, Handler] | None = None, worker_id: str | None = None,
                 batch: int = BATCH, idle_seconds: float = IDLE_SECONDS,
                 lease: timedelta = jobs.LEASE) -> None:
        self.context = JobContext(db=db, worker_id=worker_id or default_worker_id(),
                                  smtp=smtp or SmtpSettings())
        self.handlers = dict(HANDLERS if handlers is None else handlers)
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.lease = lease
        self._stopping = threading.Event()

    @property
    def worker_id(self) -> str:
        """The name this worker leases jobs under."""
        return self.context.worker_id

    def stop(self) -> None:
        """Finish the job in hand, then stop (safe to call from a signal handler)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stopping.is_set()

    def run_once(self) -> int:
        """Claim one batch of due jobs and run it; the number of jobs run."""
        db = self.context.db
        claimed = jobs.claim(db, self.worker_id, now=datetime.now(UTC), limit=self.batch,
                             lease=self.lease)
        if not claimed:
            return 0
        with self._heartbeat(claimed):
            for index, job in enumerate(claimed):
                if self.stopping:
                    jobs.release(db, claimed[index:], self.worker_id)
                    return index
                outcome = jobs.run(self.context, job, self.handlers)
                self._log(job, outcome)
        return len(claimed)

    @contextmanager
    def _heartbeat(self, claimed: Sequence[ClaimedJob]) -> Iterator[None]:
        """Renew the batch's leases from another thread while the block runs."""
        done = threading.Event()
        beat = threading.Thread(target=self._renew_until, args=(done, claimed),
                                name=f"lease-{self.worker_id}", daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join()

    def _renew_until(self, done: threading.Event, claimed: Sequence[ClaimedJob]) -> None:
        while not done.wait(self.lease.total_seconds() / 3):
            try:
                jobs.renew(self.context.db, claimed, self.worker_id, now=datetime.now(UTC),
                           lease=self.lease)
            except Exception as exc:  # noqa: BLE001 -- the next beat tries again; the lease says the rest
                logger.warning("could not renew the leases of worker %s: %s",
                               self.worker_id, exc)

    def run_until_idle(self) -> int:
        """Run batches until no job is due; the number of jobs run."""
        total = 0
        while not self.stopping:
            done = self.run_once()
            if done == 0:
                break
            total += done
        return total

    def run_forever(self) -> None:
        """Run due jobs as they come due, until ``stop``."""
        logger.info("worker %s started", self.worker_id)
        self.run_once()  # a database that is not set up fails here, loudly
        while not self.stopping:
            try:
                done = self.run_once()
            except DBAPIError as exc:
                logger.warning("database unavailable (%s); trying again in %.0f s",
                               str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
                               RECONNECT_SECONDS)
                self._stopping.wait(RECONNECT_SECONDS)
                continue
            if done == 0:
                self._stopping.wait(self.idle_seconds)
        logger.info("worker %s stopped", self.worker_id)

    def _log(self, job: ClaimedJob, outcome: str) -> None:
        if outcome == "failed":
            logger.error("job %s (%s) failed its last attempt: now an incident "
                         "(`parkflow incidents`)", job.id, job.kind)
        elif outcome == "retry":
            logger.warning("job %s (%s) failed; it will be retried", job.id, job.kind)
        else:
            logger.debug("job %s (%s): %s", job.id, job.kind, outcome)


__all__ = ["HANDLERS", "TimerNotFired", "Worker", "default_worker_id", "fire_timer"]
