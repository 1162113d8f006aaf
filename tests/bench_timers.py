"""Timer firing under load, on PostgreSQL with several worker processes.

Two measurements, each in a throw-away schema of the given database:

* synthetic: 100,000 pending jobs, 1,000 of them coming due over a few seconds, the rest
  days away; four worker processes run them with a no-op handler that records each run.
  Firing lag (run time minus due time) p50/p99/max, and whether every due job ran exactly
  once and no other job ran at all. This measures the queue: claiming, leasing, finishing.
* real: a few hundred applications of a one-timer BPMN procedure whose timers come due
  together, among 100,000 timer jobs that wait for days; the same four processes fire them
  through the application service (load, engine, save). Lag is the step's completion time
  minus the timer's due time; a waiting timer that ran, or one that fired twice, is counted.

``run(database_url)`` returns the figures; ``main()`` prints them (``make bench`` calls it).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.webapp.fixtures import timer_bpmn
from webapp.db import Database
from webapp.migrate import upgrade
from webapp.models import Instance, Job, Park, StepHistory
from webapp.services import accounts, applications, jobs, processes
from webapp.services.jobs import JobContext
from webapp.worker import HANDLERS, Worker

DEFAULT_URL = os.environ.get("PARKFLOW_BENCH_DATABASE_URL",
                             "postgresql://postgres@127.0.0.1:5432/test")
WAITING = 100_000
DUE = 1_000
DUE_WINDOW = timedelta(seconds=5)
REAL_TIMERS = 300
WORKERS = 4
LEAD_TIME = timedelta(seconds=3)  # worker processes are up and idle before the first is due
GIVE_UP = 120.0
TIMER_BPMN = timer_bpmn("bench_timer", "bench timer", "<bpmn:timeDate>fire_at</bpmn:timeDate>")


def record_run(ctx: JobContext, session: Session, job: Job, now: datetime) -> None:
    """The synthetic handler: note who ran the job and when."""
    session.execute(text("INSERT INTO bench_runs (job_id, worker, ran_at) "
                         "VALUES (:job, :worker, :at)"),
                    {"job": job.id, "worker": ctx.worker_id, "at": datetime.now(UTC)})


def _work(url: str, name: str, synthetic: bool, ready: Any) -> None:
    """One worker process, stopped by SIGTERM."""
    db = Database(url)
    handlers = {"bench": jobs.transactional(record_run)} if synthetic else HANDLERS
    worker = Worker(db, worker_id=name, handlers=handlers)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    ready.set()
    worker.run_forever()
    db.dispose()


@contextmanager
def workers(url: str, *, synthetic: bool, count: int = WORKERS) -> Iterator[None]:
    context = multiprocessing.get_context("spawn")
    started = []
    for index in range(count):
        ready = context.Event()
        process = context.Process(target=_work, args=(url, f"bench-{index}", synthetic, ready))
        process.start()
        started.append((process, ready))
    try:
        for _, ready in started:
            ready.wait(GIVE_UP)
        yield
    finally:
        for process, _ in started:
            process.terminate()  # SIGTERM: the worker finishes its job and exits
        for process, _ in started:
            process.join(GIVE_UP)


@contextmanager
def scratch_schema(database_url: str) -> Iterator[str]:
    """A fresh, migrated schema; its URL. Dropped afterwards."""
    admin = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    schema = f"bench_timers_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(database_url).set(drivername="postgresql+psycopg")
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        rendered = url.render_as_string(hide_password=False)
        upgrade(rendered)
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def lag_figures(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags)
    if not ordered:
        return {}
    return {"lag_p50_s": round(statistics.median(ordered), 4),
            "lag_p99_s": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
            "lag_max_s": round(ordered[-1], 4)}


def bench_synthetic(url: str, *, waiting: int = WAITING, due: int = DUE) -> dict[str, Any]:
    """Phase 'spread': ``due`` jobs come due over a few seconds; phase 'burst': as many more
    all at the same instant. The other jobs wait for days throughout."""
    db = Database(url)
    with db.write() as session:
        session.execute(text("CREATE TABLE bench_runs (job_id BIGINT NOT NULL, "
                             "worker TEXT NOT NULL, ran_at TIMESTAMPTZ NOT NULL)"))
        park = Park(slug="bench", name="Bench Park", settings={})
        session.add(park)
        session.flush()
        park_id = park.id
    later = datetime.now(UTC) + timedelta(days=1)
    _insert_jobs(db, park_id, "waiting", [later + timedelta(seconds=i)
                                          for i in range(waiting - due)])
    figures: dict[str, Any] = {"jobs": waiting, "due": due, "workers": WORKERS}
    with workers(url, synthetic=True):
        for phase, window in (("spread", DUE_WINDOW), ("burst", timedelta(0))):
            first = datetime.now(UTC) + LEAD_TIME
            _insert_jobs(db, park_id, phase, [first + window / due * i for i in range(due)])
            deadline = time.monotonic() + GIVE_UP
            while _ran(db, phase) < due and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)  # a double run would show up now
            figures[phase] = _phase_figures(db, phase)
    figures["waiting_jobs_run"] = _ran(db, "waiting")
    db.dispose()
    return figures


def _insert_jobs(db: Database, park_id: str, phase: str, due_times: list[datetime],
                 kind: str = "bench") -> None:
    for offset in range(0, len(due_times), 10_000):
        with db.write() as session:
            session.execute(insert(Job), [
                jobs.job_row(kind=kind, park_id=park_id, due_at=due,
                             payload={"phase": phase})
                for due in due_times[offset:offset + 10_000]])


def _ran(db: Database, phase: str) -> int:
    with db.read() as session:
        return int(session.execute(text(
            "SELECT count(DISTINCT r.job_id) FROM bench_runs r JOIN jobs j ON j.id = r.job_id "
            "WHERE j.payload->>'phase' = :phase"), {"phase": phase}).scalar_one())


def _phase_figures(db: Database, phase: str) -> dict[str, Any]:
    with db.read() as session:
        runs = session.execute(text(
            "SELECT r.job_id, r.worker, EXTRACT(EPOCH FROM r.ran_at - j.due_at) "
            "FROM bench_runs r JOIN jobs j ON j.id = r.job_id "
            "WHERE j.payload->>'phase' = :phase"), {"phase": phase}).all()
    per_job: dict[int, int] = {}
    for job_id, _, _ in runs:
        per_job[job_id] = per_job.get(job_id, 0) + 1
    lags = [float(lag) for _, _, lag in runs]
    return {"ran": len(per_job),
            "ran_more_than_once": sum(1 for n in per_job.values() if n > 1),
            "ran_early": sum(1 for lag in lags if lag < 0),
            "by_worker": {w: sum(1 for _, name, _ in runs if name == w)
                          for w in sorted({name for _, name, _ in runs})},
            **lag_figures(lags)}


def bench_real(url: str, *, count: int = REAL_TIMERS, waiting: int = WAITING) -> dict[str, Any]:
    db = Database(url)
    with db.write() as session:
        park = accounts.create_park(session, actor="bench", slug="timers", name="Timer Park")
        accounts.create_user(session, actor="bench", username="bench.ent", password="bench-pw-1",
                             park_slug="timers", role="enterprise", enterprise="Bench Co")
        processes.deploy(session, park=park, actor="bench", bpmn={"t.bpmn": TIMER_BPMN})
        park_id = park.id
    # timers of applications that wait for days: none of them may run meanwhile
    later = datetime.now(UTC) + timedelta(days=1)
    _insert_jobs(db, park_id, "waiting", [later + timedelta(seconds=i) for i in range(waiting)],
                 kind="timer")
    with workers(url, synthetic=False):
        began = time.monotonic()
        probe = applications.start_application(
            db, park_slug="timers", process_key="bench_timer", actor="bench.ent",
            data={"fire_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
        per_start = time.monotonic() - began
        first = datetime.now(UTC) + timedelta(seconds=per_start * count * 1.5) + LEAD_TIME
        step = DUE_WINDOW / count
        ids = [applications.start_application(
            db, park_slug="timers", process_key="bench_timer", actor="bench.ent",
            data={"fire_at": (first + step * i).isoformat()}) for i in range(count)]
        late_starts = datetime.now(UTC) > first
        deadline = time.monotonic() + GIVE_UP
        while _finished(db, ids) < count and time.monotonic() < deadline:
            time.sleep(0.2)
    with db.read() as session:
        fired = session.execute(
            select(StepHistory.instance_id, StepHistory.completed_at)
            .where(StepHistory.element_id == "wait", StepHistory.instance_id.in_(ids))).all()
        # a timer's job is gone once it fired: its due time is the application's fire_at
        due_of = {row.id: datetime.fromisoformat(row.data_summary["fire_at"])
                  for row in session.scalars(select(Instance).where(Instance.id.in_(ids)))}
        probe_fired = session.scalars(select(StepHistory.id).where(
            StepHistory.instance_id == probe, StepHistory.element_id == "wait")).all()
        waiting_ran = session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == "timer", Job.payload["phase"].as_string() == "waiting",
            Job.status != "pending"))
    db.dispose()
    per_instance: dict[str, int] = {}
    for instance_id, _ in fired:
        per_instance[instance_id] = per_instance.get(instance_id, 0) + 1
    lags = [(done - due_of[instance_id]).total_seconds() for instance_id, done in fired]
    return {"timers": count, "waiting_timers": waiting, "waiting_timers_run": waiting_ran,
            "workers": WORKERS, "fired": len(per_instance),
            "fired_more_than_once": sum(1 for n in per_instance.values() if n > 1),
            "fired_early": sum(1 for lag in lags if lag < 0),
            "not_due_fired": len(probe_fired), "starts_overran_first_due": late_starts,
            **lag_figures(lags)}


def _finished(db: Database, ids: list[str]) -> int:
    with db.read() as session:
        return len(session.scalars(select(Instance.id).where(
            Instance.id.in_(ids), Instance.status == "completed")).all())


def run(database_url: str) -> dict[str, Any]:
    """Both measurements on PostgreSQL at ``database_url``; the figures."""
    with scratch_schema(database_url) as url:
        synthetic = bench_synthetic(url)
    with scratch_schema(database_url) as url:
        real = bench_real(url)
    return {"synthetic_jobs": synthetic, "bpmn_timers": real}


def main() -> None:
    try:
        figures = run(DEFAULT_URL)
    except Exception as exc:  # noqa: BLE001 -- no PostgreSQL here: say so and move on
        print(f"\n== timers ==\nskipped: {type(exc).__name__}: {exc}")
        return
    synthetic, real = figures["synthetic_jobs"], figures["bpmn_timers"]
    print(f"\n== timers (PostgreSQL, {WORKERS} worker processes) ==")
    for phase, how in (("spread", f"over {DUE_WINDOW.total_seconds():.0f} s"),
                       ("burst", "at the same instant")):
        found = synthetic[phase]
        print(f"synthetic, {synthetic['jobs']:,} pending jobs, {synthetic['due']:,} due {how}: "
              f"ran {found['ran']:,}, twice {found['ran_more_than_once']}, early "
              f"{found['ran_early']}; lag p50 {found.get('lag_p50_s')} s, p99 "
              f"{found.get('lag_p99_s')} s, max {found.get('lag_max_s')} s")
    print(f"  jobs not due that ran: {synthetic['waiting_jobs_run']}")
    print(f"BPMN timers, {real['timers']} applications due over {DUE_WINDOW.total_seconds():.0f} "
          f"s among {real['waiting_timers']:,} waiting timers: fired {real['fired']}, twice "
          f"{real['fired_more_than_once']}, early {real['fired_early']}; lag p50 "
          f"{real.get('lag_p50_s')} s, p99 {real.get('lag_p99_s')} s, max "
          f"{real.get('lag_max_s')} s")
    print(f"  waiting timers that ran: {real['waiting_timers_run']}")
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
