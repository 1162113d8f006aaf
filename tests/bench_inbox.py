"""How fast the inbox page renders with 10,000 open tasks in the park (goal: p95 ≤ 50 ms).

Run with ``python -m tests.bench_inbox``. The tasks are written straight into the tables for
synthetic applications; the page is rendered through the test client for a reviewer whose
group holds all of them, first page and filtered. Prints figures, asserts nothing.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from tests.webapp.apptools import csrf_of, make_app
from tests.webapp.pages.synthetic import add_open_tasks
from webapp.db import Database
from webapp.demo import PASSWORD, create_demo
from webapp.migrate import upgrade

TASKS = 10_000
ROUNDS = 200
WARM_UP = 10


def percentile(samples: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the samples lie."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    """Print the p50/p95 render time of /inbox with 10,000 open tasks."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        with db.write() as session:
            create_demo(session, actor="bench")
        started = time.perf_counter()
        add_open_tasks(db, TASKS)
        print(f"wrote {TASKS} open tasks in {time.perf_counter() - started:.1f} s")
        app = make_app(url, Path(folder) / "instance")
        client = app.test_client()
        answer = client.post("/login", data={"username": "zhang.wei", "password": PASSWORD,
                                             "csrf_token": csrf_of(client.get("/login"))})
        assert answer.status_code == 302, answer.status_code
        for label, path in (("first page", "/inbox"),
                            ("search by reference", "/inbox?q=SYN-2026-009999"),
                            ("procedure filter", "/inbox?process=policy_subsidy")):
            samples = []
            for round_number in range(WARM_UP + ROUNDS):
                started = time.perf_counter()
                page = client.get(path)
                elapsed = time.perf_counter() - started
                assert page.status_code == 200
                if round_number >= WARM_UP:
                    samples.append(elapsed)
            rows = len(re.findall(r'<a href="/tasks/', page.get_data(as_text=True)))
            print(f"/inbox {label:<20} {rows:>3} rows   p50 "
                  f"{statistics.median(samples) * 1000:6.1f} ms   p95 "
                  f"{percentile(samples, 0.95) * 1000:6.1f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
