"""``parkflow serve`` outlives crashes: a killed job worker is started again and its due timers
fire within a lease; a killed web process is replaced by gunicorn; the web answers throughout."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.webapp.api.test_serve import (
    PARKFLOW,
    _environment,
    _free_port,
    _run,
    _wait_until_healthy,
)
from tests.webapp.worker.slow_webhook import queue_webhook, slow_webhook
from tests.webapp.worker.test_kill import APPLICATIONS, due_timers, ended, held_by
from tests.webapp.worker.test_process import STARTUP_SECONDS, prepare
from webapp.db import Database

LEASE_SECONDS = 3
# the first restart waits a second; the new worker then needs its imports and one lease
FIRE_WITHIN_SECONDS = 1 + LEASE_SECONDS + 10

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    return [int(found) for found in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


class Watch:
    """Asks /healthz ten times a second from a thread; when each request was sent and the
    status it got."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.statuses: list[tuple[float, int | str]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._ask, daemon=True)
        self._thread.start()

    def _ask(self) -> None:
        while not self._done.wait(0.1):
            sent = time.monotonic()
            try:
                status: int | str = requests.get(f"{self.base}/healthz", timeout=5).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            self.statuses.append((sent, status))

    def stop(self) -> list[tuple[float, int | str]]:
        self._done.set()
        self._thread.join()
        return self.statuses


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Database, Path, dict[str, str]]]:
    """A SQLite database with the tick park, the environment to serve it, and a log path."""
    env = _environment(tmp_path / "instance")
    env["PARKFLOW_JOB_LEASE_SECONDS"] = str(LEASE_SECONDS)
    _run(env, "db", "upgrade")
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'parkflow.db'}")
    prepare(db)
    yield db, tmp_path / "serve.log", env
    db.dispose()


def wait_for_line(log: Path, text: str, seconds: float, after: int = 0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace")[after:]:
            return
        time.sleep(0.1)
    pytest.fail(f"serve never logged {text!r}:\n{log.read_text(errors='replace')[after:]}")


def test_a_killed_worker_is_restarted_and_a_killed_web_process_replaced(
    served: tuple[Database, Path, dict[str, str]],
) -> None:
    db, log, env = served
    ids = due_timers(db, APPLICATIONS)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with slow_webhook() as url:
        queue_webhook(db, "tick", url, datetime.now(UTC) - timedelta(minutes=1))
        with log.open("wb") as output:
            server = subprocess.Popen(
                [*PARKFLOW, "serve", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_healthy(base, server)
            watch = Watch(base)
            [worker] = [pid for pid in children(server.pid) if command_of(pid).endswith("worker ")]
            held_by(db, worker, APPLICATIONS + 1, STARTUP_SECONDS)
            subprocess.run(["kill", "-9", str(worker)], check=True)
            killed_at = time.monotonic()
            while not ended(db, ids) and time.monotonic() - killed_at < FIRE_WITHIN_SECONDS:
                time.sleep(0.05)
            assert ended(db, ids), "the restarted worker did not fire the timers in time"

            [arbiter] = [pid for pid in children(server.pid) if "gunicorn" in command_of(pid)]
            web = children(arbiter)[0]
            seen = len(log.read_text(errors="replace"))
            subprocess.run(["kill", "-9", str(web)], check=True)
            web_killed_at = time.monotonic()
            wait_for_line(log, f"Worker (pid:{web}) was sent SIGKILL", 30, seen)
            wait_for_line(log, "Booting worker with pid", 30, seen)
            statuses = watch.stop()
            assert server.poll() is None
        finally:
            if server.poll() is None:
                server.terminate()
                server.wait(60)

    assert "the worker process died (killed by SIGKILL); starting it again in 1 s" in (
        log.read_text(errors="replace")
    )
    # another gunicorn process answers while the killed one is replaced: every request sent
    # after the kill is answered; only one the killed process was serving at that moment may
    # have lost its connection
    after = [status for sent, status in statuses if sent > web_killed_at]
    assert after and set(after) == {200}
    during = [status for sent, status in statuses if sent <= web_killed_at and status != 200]
    assert len(during) <= 1 and set(during) <= {"ConnectionError"}
