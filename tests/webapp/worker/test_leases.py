"""Leases: short (30 s), renewed while the worker works, free again soon after a worker dies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from tests.webapp.fixtures import STUCK_SECONDS
from webapp.db import Database
from webapp.models import Job, Park
from webapp.services import jobs
from webapp.services.jobs import ClaimedJob, JobContext
from webapp.worker import Worker


def queue_job(db: Database, kind: str, due_at: datetime) -> int:
    with db.write() as session:
        park_id = session.scalars(select(Park.id).where(Park.slug == "demo")).one()
        jobs.enqueue(session, [jobs.job_row(kind=kind, park_id=park_id, due_at=due_at)])
        return session.scalars(select(Job.id).where(Job.kind == kind)).one()


def lease_of(db: Database, job_id: int) -> tuple[str | None, datetime | None]:
    with db.read() as session:
        job = session.get_one(Job, job_id)
        return job.locked_by, job.locked_until


def test_a_claim_lasts_thirty_seconds_then_another_worker_may_take_the_job(
    demo_db: Database, clock: time_machine.Traveller
) -> None:
    now = datetime.now(UTC)
    job_id = queue_job(demo_db, "slow", now)

    [claimed] = jobs.claim(demo_db, "dead-worker", now=now)

    assert lease_of(demo_db, job_id) == ("dead-worker", now + timedelta(seconds=30))
    assert jobs.claim(demo_db, "rival", now=now + timedelta(seconds=29)) == []
    [taken] = jobs.claim(demo_db, "rival", now=now + timedelta(seconds=31))
    assert taken.id == claimed.id


def test_renewing_extends_only_this_workers_leases(
    demo_db: Database, clock: time_machine.Traveller
) -> None:
    now = datetime.now(UTC)
    mine_id = queue_job(demo_db, "mine", now)
    [mine] = jobs.claim(demo_db, "me", now=now)
    theirs_id = queue_job(demo_db, "theirs", now)
    [theirs] = jobs.claim(demo_db, "them", now=now)
    later = now + timedelta(seconds=20)

    assert jobs.renew(demo_db, [mine, theirs], "me", now=later) == 1

    assert lease_of(demo_db, mine_id) == ("me", later + timedelta(seconds=30))
    assert lease_of(demo_db, theirs_id) == ("them", now + timedelta(seconds=30))


def test_a_job_that_outlasts_its_lease_keeps_it_while_the_worker_runs_it(demo_db: Database) -> None:
    started, finish = threading.Event(), threading.Event()

    def slow(_ctx: JobContext, _job: ClaimedJob, _now: datetime) -> None:
        started.set()
        finish.wait(STUCK_SECONDS)

    lease = timedelta(seconds=0.6)
    worker = Worker(
        demo_db, worker_id="busy", handlers={"slow": jobs.standalone(slow)}, lease=lease
    )
    job_id = queue_job(demo_db, "slow", datetime.now(UTC))
    running = threading.Thread(target=worker.run_once)
    running.start()
    try:
        assert started.wait(STUCK_SECONDS)
        # three leases long: without renewals the rival would take the job
        taken = []
        for _ in range(6):
            finish.wait(lease.total_seconds() / 2)
            taken += jobs.claim(demo_db, "rival", now=datetime.now(UTC))
    finally:
        finish.set()
        running.join(STUCK_SECONDS)

    assert taken == []
    with demo_db.read() as session:
        job = session.get_one(Job, job_id)
        assert (job.status, job.locked_by) == ("done", None)
