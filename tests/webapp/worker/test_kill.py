"""A `parkflow worker` killed with due timers in hand: a new worker fires them one lease later.

The killed worker is held in a slow webhook delivery, the first job of its batch, with the
application's due timers leased behind it; leases are shortened to a few seconds so the test
need not wait the 30 s a park runs with.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.webapp.worker.slow_webhook import queue_webhook, slow_webhook
from tests.webapp.worker.test_process import (
    ROOT,
    STARTUP_SECONDS,
    WORKER_COMMAND,
    lines_of,
    prepare,
    wait_for,
)
from webapp.db import Database
from webapp.models import Instance, Job
from webapp.services.applications import start_application

LEASE_SECONDS = 3
APPLICATIONS = 3
# a new worker looks for due jobs four times a second; the rest is the engine and the database
MARGIN_SECONDS = 2.0

pytestmark = pytest.mark.slow
Worker = subprocess.Popen[str]


@pytest.fixture
def launch(database_url: str, tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    """Start `parkflow worker` processes on the test database; all are killed at the end."""
    env = {
        **os.environ,
        "PARKFLOW_DATABASE_URL": database_url,
        "PARKFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONPATH": str(ROOT),
        "PARKFLOW_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    env.pop("PARKFLOW_DEBUG", None)
    started: list[Worker] = []

    def run() -> Worker:
        process = subprocess.Popen(
            WORKER_COMMAND,
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def due_timers(db: Database, count: int) -> list[str]:
    """Start ``count`` applications and wait until their two-second timers are due."""
    ids = [
        start_application(db, park_slug="tick", process_key="tick", data={}, actor="ent")
        for _ in range(count)
    ]
    with db.read() as session:
        due = max(session.scalars(select(Job.due_at).where(Job.kind == "timer")))
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.1)
    return ids


def leases(db: Database) -> dict[str, datetime]:
    """locked_by -> the latest locked_until of the pending jobs it holds."""
    with db.read() as session:
        rows = session.execute(
            select(Job.locked_by, Job.locked_until).where(
                Job.status == "pending", Job.locked_by.is_not(None)
            )
        )
        found: dict[str, datetime] = {}
        for holder, until in rows:
            found[holder] = max(until, found.get(holder, until))
        return found


def held_by(db: Database, pid: int, jobs: int, seconds: float) -> datetime:
    """Wait until process ``pid`` leases ``jobs`` jobs; the end of its lease."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.read() as session:
            holders = list(
                session.scalars(
                    select(Job.locked_by).where(Job.status == "pending", Job.locked_by.is_not(None))
                )
            )
        if len(holders) == jobs and all(f":{pid}:" in holder for holder in holders):
            return next(iter(leases(db).values()))
        time.sleep(0.05)
    pytest.fail(f"worker {pid} never held all {jobs} jobs")


def ended(db: Database, ids: list[str]) -> bool:
    with db.read() as session:
        return all(session.get_one(Instance, i).ended_at is not None for i in ids)


def test_a_killed_workers_due_timers_fire_within_a_lease_of_a_new_workers_start(
    db: Database, launch: Callable[[], Worker]
) -> None:
    prepare(db)
    ids = due_timers(db, APPLICATIONS)
    with slow_webhook() as url:
        queue_webhook(db, "tick", url, datetime.now(UTC) - timedelta(minutes=1))
        first = launch()
        until = held_by(db, first.pid, APPLICATIONS + 1, STARTUP_SECONDS)
        # its heartbeat renews the leases while the delivery keeps it busy
        deadline = time.monotonic() + 2 * LEASE_SECONDS
        while next(iter(leases(db).values())) <= until and time.monotonic() < deadline:
            time.sleep(0.1)
        assert next(iter(leases(db).values())) > until, "the lease was never renewed"
        first.kill()
        first.wait()
        assert not ended(db, ids) and len(leases(db)) == 1

        second = launch()
        wait_for(lines_of(second.stderr), "started", STARTUP_SECONDS)
        began = time.monotonic()
        while not ended(db, ids) and time.monotonic() - began < LEASE_SECONDS + MARGIN_SECONDS:
            time.sleep(0.05)

    assert ended(db, ids), f"the timers did not fire within {LEASE_SECONDS} s of the lease"
