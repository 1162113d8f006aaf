"""The worker fires BPMN timers: on time, never early, never for a timer no longer awaited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import select

from tests.webapp.fixtures import (
    APPLICATION,
    complete,
    history,
    local,
    open_tasks,
    pending_timers,
    start,
)
from webapp.cli.core import CliState
from webapp.cli.worker import incidents
from webapp.db import Database
from webapp.models import Job
from webapp.services import jobs
from webapp.worker import Worker


def to_public_notice(db: Database) -> str:
    """An approved subsidy application, published: its 5WD public-notice timer waits."""
    instance_id = start(db)
    complete(db, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    complete(db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
    return instance_id


def test_the_public_notice_timer_fires_when_due_and_not_before(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller) -> None:
    instance_id = to_public_notice(demo_db)
    timer = pending_timers(demo_db, instance_id)["public_notice"]
    assert timer.due_at == local(9)  # five working days after Monday 2 March, 09:00

    clock.move_to(local(9) - timedelta(seconds=1))
    worker.run_until_idle()
    assert "public_notice" in pending_timers(demo_db, instance_id)
    assert "disbursement_handover" not in open_tasks(demo_db, instance_id)

    clock.move_to(local(9))  # a timer fires once its time has passed
    worker.run_until_idle()
    assert "public_notice" in pending_timers(demo_db, instance_id)

    clock.move_to(local(9, second=1))
    worker.run_until_idle()
    assert pending_timers(demo_db, instance_id) == {}
    handover = open_tasks(demo_db, instance_id)["disbursement_handover"]
    assert handover.created_at == local(9, second=1)
    assert [s.element_id for s in history(demo_db, instance_id)][-1] == "public_notice"


def test_a_timer_job_delivered_twice_fires_once(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller) -> None:
    instance_id = to_public_notice(demo_db)
    clock.move_to(local(9, 10))
    claimed = jobs.claim(demo_db, "test-worker", now=local(9, 10), limit=100)
    timer_job = next(job for job in claimed if job.kind == "timer")

    assert jobs.run(worker.context, timer_job, worker.handlers) == "done"
    # at least once: the same job handed out again (a lease ran out) is harmless
    assert jobs.run(worker.context, timer_job, worker.handlers) == "done"
    fired = [s for s in history(demo_db, instance_id) if s.element_id == "public_notice"]
    assert len(fired) == 1
    assert list(open_tasks(demo_db, instance_id)) == ["disbursement_handover"]


def test_a_boundary_timer_no_longer_awaited_never_fires(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller,
        jobs_of: Callable[..., list[Job]]) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    overdue_timer = pending_timers(demo_db, instance_id)["Event_director_overdue"]
    clock.move_to(local(3))
    # a worker claimed the 2WD escalation timer early (as if the clock had run on) ...
    claimed = [job for job in jobs.claim(demo_db, "test-worker", now=local(30), limit=100)
               if job.kind == "timer"]
    assert [job.id for job in claimed] == [overdue_timer.id]
    # ... and the department head decides before it runs: the timer loses its job
    complete(demo_db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
    assert "Event_director_overdue" not in pending_timers(demo_db, instance_id)

    clock.move_to(local(20))
    assert jobs.run(worker.context, claimed[0], worker.handlers) == "done"
    worker.run_until_idle()
    steps = [s.element_id for s in history(demo_db, instance_id)]
    assert "Event_director_overdue" not in steps and "leader_review" not in steps
    assert "leader_review" not in open_tasks(demo_db, instance_id)


def test_a_stale_timer_job_is_a_no_op(demo_db: Database, worker: Worker,
                                      clock: time_machine.Traveller) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    stale = pending_timers(demo_db, instance_id)["Event_director_overdue"]
    complete(demo_db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
    with demo_db.write() as session:  # a job row left behind, pointing at the cancelled timer
        session.add(Job(park_id=stale.park_id, instance_id=instance_id, kind="timer",
                        task_id=stale.task_id, due_at=local(4), payload={}))

    clock.move_to(local(5))
    worker.run_until_idle()
    steps = [s.element_id for s in history(demo_db, instance_id)]
    assert "leader_review" not in open_tasks(demo_db, instance_id)
    assert "Event_director_overdue" not in steps
    assert "public_notice" in pending_timers(demo_db, instance_id)


def run_cli(database_url: str, tmp_path: Any, *args: str) -> Result:
    env = {"PARKFLOW_DATABASE_URL": database_url,
           "PARKFLOW_INSTANCE_PATH": str(tmp_path / "instance")}
    return CliRunner().invoke(incidents, list(args), obj=CliState(), env=env,
                              catch_exceptions=False)


def test_failures_back_off_then_become_an_incident_an_admin_retries(
        demo_db: Database, database_url: str, tmp_path: Any, worker: Worker,
        clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch) -> None:
    instance_id = to_public_notice(demo_db)
    timer = pending_timers(demo_db, instance_id)["public_notice"]

    def broken(*_args: Any, **_kwargs: Any) -> str:
        raise RuntimeError("the engine is down for maintenance")

    monkeypatch.setattr("webapp.worker.applications.fire_timers", broken)
    clock.move_to(local(9, second=1))
    waits: list[timedelta] = []
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        worker.run_until_idle()
        job = load_job(demo_db, timer.id)
        assert job.attempts == attempt
        assert "the engine is down for maintenance" in (job.last_error or "")
        if attempt < jobs.MAX_ATTEMPTS:
            assert job.status == "pending" and job.locked_by is None
            waits.append(job.due_at - local(9, second=1) - sum(waits, timedelta()))
            worker.run_until_idle()  # not due yet: nothing happens
            assert load_job(demo_db, timer.id).attempts == attempt
            clock.move_to(job.due_at)
    assert waits == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert job.status == "failed"

    listed = run_cli(database_url, tmp_path)
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].split("\t")[:3] == [str(timer.id), "timer", job_reference(demo_db, job)]
    assert "RuntimeError: the engine is down for maintenance" in lines[0]

    monkeypatch.undo()
    retried = run_cli(database_url, tmp_path, "--retry", str(timer.id))
    assert retried.exit_code == 0 and f"job {timer.id}" in retried.output
    assert run_cli(database_url, tmp_path).output.strip() == "no incidents"
    worker.run_until_idle()
    assert "disbursement_handover" in open_tasks(demo_db, instance_id)


def load_job(db: Database, job_id: int) -> Job:
    with db.read() as session:
        job = session.get_one(Job, job_id)
        session.expunge(job)
        return job


def job_reference(db: Database, job: Job) -> str:
    from webapp.models import Instance

    with db.read() as session:
        return session.get_one(Instance, job.instance_id).reference


def test_retrying_something_that_is_not_an_incident_fails(
        demo_db: Database, database_url: str, tmp_path: Any) -> None:
    with pytest.raises(Exception, match="incident 12345 does not exist"):
        run_cli(database_url, tmp_path, "--retry", "12345")


def test_stop_finishes_the_job_in_hand_and_hands_the_rest_back(
        demo_db: Database, clock: time_machine.Traveller) -> None:
    instance_ids = [start(demo_db, data={**APPLICATION, "company_name": f"企业{i}号"})
                    for i in range(3)]
    ran: list[int] = []

    def event(ctx: jobs.JobContext, session: Any, job: Job, now: Any) -> None:
        ran.append(job.id)
        stopper.stop()  # SIGTERM arrives while this job runs

    stopper = Worker(demo_db, worker_id="stopping", handlers={"event": jobs.transactional(event)})
    assert stopper.run_once() == 1
    with demo_db.read() as session:
        rows = list(session.scalars(select(Job).where(Job.kind == "event")
                                    .order_by(Job.id)))
        session.expunge_all()
    assert len(rows) == len(instance_ids)
    assert [row.id for row in rows if row.status == "done"] == ran
    assert all(row.status == "pending" and row.locked_by is None
               for row in rows if row.id not in ran)
