"""Several workers on PostgreSQL: every due job is claimed by one of them and run once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.webapp.fixtures import run_together
from webapp.db import Database
from webapp.models import Job, Park
from webapp.services import jobs
from webapp.worker import Worker

JOBS = 300
CLAIMERS = 4


@pytest.fixture
def queued(db: Database) -> Database:
    if db.backend != "postgresql":
        pytest.skip("concurrent claims use SKIP LOCKED on PostgreSQL; SQLite runs one worker")
    past = datetime.now(UTC) - timedelta(minutes=1)
    with db.write() as session:
        park = Park(slug="p", name="Park", settings={})
        session.add(park)
        session.flush()
        jobs.enqueue(session, [jobs.job_row(kind="count", park_id=park.id, due_at=past,
                                            payload={"runs": 0}) for _ in range(JOBS)])
    return db


def test_concurrent_claimers_each_take_a_job_once(queued: Database) -> None:
    def drain(index: int) -> list[int]:
        taken: list[int] = []
        while batch := jobs.claim(queued, f"claimer-{index}", now=datetime.now(UTC), limit=7):
            taken += [job.id for job in batch]
        return taken

    outcomes = run_together(CLAIMERS, drain)
    claims = Counter(job_id for taken in outcomes for job_id in taken)  # type: ignore[union-attr]
    assert len(claims) == JOBS
    assert set(claims.values()) == {1}
    assert sum(1 for taken in outcomes if taken) > 1  # they did work side by side


def test_concurrent_workers_run_each_job_once(queued: Database) -> None:
    def count(ctx: jobs.JobContext, session: Any, job: Job, now: datetime) -> None:
        job.payload = {"runs": job.payload["runs"] + 1, "by": ctx.worker_id}

    workers = [Worker(queued, worker_id=f"worker-{i}", handlers={
        "count": jobs.transactional(count)}) for i in range(CLAIMERS)]
    outcomes = run_together(CLAIMERS, lambda index: workers[index].run_until_idle())

    assert sum(outcomes) == JOBS  # type: ignore[arg-type]
    with queued.read() as session:
        rows = session.scalars(select(Job)).all()
        assert {(row.status, row.payload["runs"]) for row in rows} == {("done", 1)}
        assert len({row.payload["by"] for row in rows}) > 1
