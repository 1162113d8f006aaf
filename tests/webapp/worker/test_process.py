"""One real `parkflow worker` process: it fires a two-second timer on time and stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.webapp.fixtures import timer_bpmn
from webapp.db import Database
from webapp.models import Instance, StepHistory
from webapp.services import accounts, processes
from webapp.services.applications import start_application

ROOT = Path(__file__).resolve().parents[3]
TICK_BPMN = timer_bpmn("tick", "two-second wait", "<bpmn:timeDuration>PT2S</bpmn:timeDuration>")
# the installed console script, exactly as a park runs it
WORKER_COMMAND = [str(Path(sys.executable).parent / "parkflow"), "worker"]
STARTUP_SECONDS = 60  # imports on a busy machine; the timer starts only afterwards
FIRE_WITHIN = timedelta(seconds=3)


def prepare(db: Database) -> None:
    with db.write() as session:
        park = accounts.create_park(session, actor="test", slug="tick", name="Tick Park")
        accounts.create_user(session, actor="test", username="ent", password="secret-pw-1",
                             park_slug="tick", role="enterprise", enterprise="Tick Co")
        processes.deploy(session, park=park, actor="test", bpmn={"tick.bpmn": TICK_BPMN})


def lines_of(stream: object) -> queue.Queue[str]:
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            found.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return found


def wait_for(lines: queue.Queue[str], text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return
    pytest.fail(f"the worker never said {text!r}; it said: {''.join(seen)}")


@pytest.mark.slow
def test_a_worker_process_fires_a_timer_on_time_and_stops_on_sigterm(
        db: Database, database_url: str, tmp_path: Path) -> None:
    prepare(db)
    env = {**os.environ, "PARKFLOW_DATABASE_URL": database_url,
           "PARKFLOW_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    env.pop("PARKFLOW_DEBUG", None)
    process = subprocess.Popen(WORKER_COMMAND, cwd=ROOT, env=env, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        output = lines_of(process.stderr)
        wait_for(output, "started", STARTUP_SECONDS)

        instance_id = start_application(db, park_slug="tick", process_key="tick", data={},
                                        actor="ent")
        with db.read() as session:
            started_at = session.get_one(Instance, instance_id).started_at
        ended_at = None
        deadline = time.monotonic() + FIRE_WITHIN.total_seconds()
        while ended_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
            with db.read() as session:
                ended_at = session.get_one(Instance, instance_id).ended_at
        assert ended_at is not None, "the timer did not fire within 3 s of the start"
        with db.read() as session:
            fired = session.scalars(select(StepHistory.completed_at).where(
                StepHistory.instance_id == instance_id, StepHistory.element_id == "wait")).one()
        assert fired >= started_at + timedelta(seconds=2)  # never early

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        wait_for(output, "stopped", 5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
