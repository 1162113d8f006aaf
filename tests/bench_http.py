"""HTTP figures for `make bench`: task completion through `parkflow serve` (2 gunicorn workers).

Each database gets a fresh demo park; applications are started through the services, then
reviewers complete their first task over HTTP from several client threads with keep-alive.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from tests.bench import CORRECTION, RETURN, ms, percentile, postgresql_database, start
from webapp.db import Database
from webapp.demo import create_demo
from webapp.migrate import upgrade
from webapp.models import HumanTask

APPLICATIONS = 1200
# completions before anything is timed
WARM_UP = 100
CLIENTS = 8
# loop rounds of one long-lived application at which its completions are timed, over HTTP
ROUND_MARKS = (1, 100, 300)
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(database_url: str, instance_path: Path) -> Iterator[str]:
    """`parkflow serve --workers 2 --no-worker` on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PARKFLOW_DATABASE_URL": database_url,
           "PARKFLOW_INSTANCE_PATH": str(instance_path),
           "PARKFLOW_LOGIN_RATE_LIMIT": "10000 per minute", "PARKFLOW_LOG_LEVEL": "warning"}
    server = subprocess.Popen(  # noqa: S603 -- our own console script
        [str(BIN / "parkflow"), "serve", "--port", str(port), "--workers", "2", "--no-worker"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=5).ok:
                return
        except requests.RequestException:  # not listening yet, or still starting up
            time.sleep(0.2)
    raise RuntimeError("parkflow serve did not come up")


def open_tasks(db: Database, count: int) -> list[str]:
    instances = [start(db) for _ in range(count)]
    with db.read() as session:
        return list(session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id.in_(instances), HumanTask.status == "open")))


class Client:
    """One keep-alive connection posting completions: the standard library's HTTP client is
    lean, so the figures are the server's and not the benchmark's own."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.body = json.dumps({"data": RETURN}).encode()

    def complete(self, task_id: str) -> int:
        return self._post(task_id)[0]

    def answer(self, task_id: str) -> dict[str, Any]:
        """Complete and read the answer: the application's view."""
        status, body = self._post(task_id)
        if status != 200:
            raise RuntimeError(f"completion answered {status}: {body[:200]!r}")
        return dict(json.loads(body))

    def _post(self, task_id: str) -> tuple[int, bytes]:
        self.connection.request("POST", f"/api/v1/tasks/{task_id}/complete", body=self.body,
                                headers=self.headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def token_for(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/token", timeout=10, json={
        "username": username, "password": "parkflow-demo"})
    response.raise_for_status()
    return str(response.json()["token"])


def complete_all(base: str, tasks: list[str]) -> tuple[list[float], float]:
    """Complete every task over HTTP from CLIENTS threads; (latencies, completions per s)."""
    token = token_for(base, "zhang.wei")
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    chunks = [tasks[i::CLIENTS] for i in range(CLIENTS)]

    def client(chunk: list[str]) -> None:
        client = Client(base, token)
        for task_id in chunk:
            began = time.perf_counter()
            status = client.complete(task_id)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(status)
        client.close()

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(tasks) / (time.perf_counter() - began)
    if failures:
        print(f"  {len(failures)} completions failed: {sorted(set(failures))}")
    return latencies, rate


def sequential_latency(base: str, tasks: list[str]) -> list[float]:
    """One client, one request at a time: the latency a reviewer sees."""
    client = Client(base, token_for(base, "zhang.wei"))
    samples = []
    for task_id in tasks:
        began = time.perf_counter()
        status = client.complete(task_id)
        samples.append(time.perf_counter() - began)
        if status != 200:
            raise RuntimeError(f"completion answered {status}")
    client.close()
    return samples


def loop_latency(base: str, db: Database) -> dict[int, float]:
    """One application through ROUND_MARKS[-1] return-for-correction rounds over HTTP: the
    median completion (answered with the whole view, history included) around each mark."""
    reviewer, applicant = (Client(base, token_for(base, user)) for user in ("zhang.wei", "xinghe"))
    applicant.body = json.dumps({"data": CORRECTION}).encode()
    with db.read() as session:
        task_id = session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == start(db), HumanTask.status == "open")).one()
    samples: dict[int, list[float]] = {}
    for round_number in range(1, ROUND_MARKS[-1] + 1):
        for client in (reviewer, applicant):
            began = time.perf_counter()
            view = client.answer(task_id)
            samples.setdefault(round_number, []).append(time.perf_counter() - began)
            [current] = view["current_steps"]
            task_id = current["task_id"]
    reviewer.close()
    applicant.close()
    found = {}
    for mark in ROUND_MARKS:
        near = [s for r in range(max(1, mark - 4), min(ROUND_MARKS[-1], mark + 4) + 1)
                for s in samples[r]]
        found[mark] = sorted(near)[len(near) // 2]
    return found


def report(name: str, database_url: str, instance_path: Path) -> None:
    upgrade(database_url)
    db = Database(database_url)
    with db.write() as session:
        create_demo(session, actor="bench")
    tasks = open_tasks(db, WARM_UP + APPLICATIONS)
    with served(database_url, instance_path) as base:
        # as a running server is: each web process has parsed the procedure, its pooled
        # connections hold their prepared statements
        complete_all(base, tasks[:WARM_UP])
        tasks = tasks[WARM_UP:]
        single = sequential_latency(base, tasks[:200])
        latencies, rate = complete_all(base, tasks[200:])
        rounds = loop_latency(base, db)
    db.dispose()
    print(f"\n== HTTP, {name}, parkflow serve with 2 gunicorn workers "
          f"(after {WARM_UP} completions) ==")
    print(f"task completion, one client: p50 {ms(percentile(single, 0.5))}, "
          f"p95 {ms(percentile(single, 0.95))}")
    print(f"task completion, {CLIENTS} clients: p50 {ms(percentile(latencies, 0.5))}, "
          f"p95 {ms(percentile(latencies, 0.95))}; {rate:.0f} completions/s "
          f"over {len(latencies)} tasks")
    print("task completion of one application in a return-for-correction loop, one client: "
          + ", ".join(f"p50 {ms(rounds[mark])} at round {mark}" for mark in ROUND_MARKS)
          + f"; round {ROUND_MARKS[-1]} / round 1 = "
          f"{rounds[ROUND_MARKS[-1]] / rounds[ROUND_MARKS[0]]:.2f}×")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'http.db'}"
        report("SQLite", url, Path(folder))
    with postgresql_database() as pg, tempfile.TemporaryDirectory() as folder:
        if pg is not None:
            url = pg.engine.url.render_as_string(hide_password=False)
            pg.dispose()
            report("PostgreSQL", url, Path(folder))


if __name__ == "__main__":
    main()
