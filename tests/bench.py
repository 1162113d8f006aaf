"""`make bench`: how fast Parkflow moves applications, on SQLite and PostgreSQL in one run.

Prints figures, asserts nothing (machines are noisy). PostgreSQL is used when reachable at
PARKFLOW_BENCH_DATABASE_URL (default: the local test database), in a throw-away schema.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from tests.engine.test_processes import APPLICATION, CORRECTION, REASONS
from webapp.db import Database
from webapp.demo import create_demo
from webapp.migrate import upgrade
from webapp.models import HumanTask
from webapp.services import applications as apps

POSTGRESQL_URL = os.environ.get(
    "PARKFLOW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
RETURN = {"outcome": "return", "return_reasons": REASONS}


def percentile(samples: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the samples lie."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


@contextmanager
def sqlite_database() -> Iterator[Database]:
    """A fresh SQLite file with the demo park."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        yield _prepared(url)


@contextmanager
def postgresql_database() -> Iterator[Database | None]:
    """A fresh PostgreSQL schema with the demo park, or None when PostgreSQL is not there."""
    admin = create_engine(make_url(POSTGRESQL_URL).set(drivername="postgresql+psycopg"))
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # noqa: BLE001 -- any failure means: no PostgreSQL here
        print(f"PostgreSQL not available ({type(exc).__name__}); skipping it")
        yield None
        return
    try:
        url = make_url(POSTGRESQL_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield _prepared(url.render_as_string(hide_password=False))
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def _prepared(url: str) -> Database:
    upgrade(url)
    db = Database(url)
    with db.write() as session:
        create_demo(session, actor="bench")
    return db


def open_task(db: Database, instance_id: str) -> str:
    with db.read() as session:
        task_id = session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open")).first()
    assert task_id is not None
    return task_id


def start(db: Database) -> str:
    return apps.start_application(db, park_slug="demo", process_key="policy_subsidy",
                                  data=APPLICATION, actor="xinghe")


def timed(call: Callable[[], Any]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def correction_round(db: Database, instance_id: str) -> tuple[float, float]:
    """One return-for-correction round: (review step, correction step) durations."""
    review = open_task(db, instance_id)
    first = timed(lambda: apps.complete_task(db, task_id=review, data=RETURN, actor="zhang.wei"))
    fix = open_task(db, instance_id)
    second = timed(lambda: apps.complete_task(db, task_id=fix, data=CORRECTION, actor="xinghe"))
    return first, second


def bench_steps(db: Database, rounds: int = 150) -> list[float]:
    """Step = load, complete, run the engine, save, commit; over ``rounds`` loops."""
    instance_id = start(db)
    for _ in range(5):
        correction_round(db, instance_id)
    samples: list[float] = []
    for _ in range(rounds):
        samples.extend(correction_round(db, instance_id))
    return samples


def bench_iterations(db: Database, marks: tuple[int, ...] = (1, 100, 300),
                     repeats: int = 9) -> dict[int, tuple[float, float]]:
    """Median step time at loop iteration 1, 100 and 300 of one long-lived application.

    Each mark is paired with the median first-round step of new applications, measured in
    turn with it: this machine's speed drifts by a third within minutes, and a ratio of two
    figures taken minutes apart would measure the drift. Returns, per mark, (the long-lived
    application's step, a new application's step beside it).
    """
    instance_id = start(db)
    found: dict[int, tuple[float, float]] = {}
    for iteration in range(1, max(marks) + 1):
        if iteration not in marks:
            correction_round(db, instance_id)
            continue
        old, new = [], []
        for _ in range(repeats):
            old.append(sum(correction_round(db, instance_id)) / 2)
            new.append(sum(correction_round(db, start(db))) / 2)
        found[iteration] = (statistics.median(old), statistics.median(new))
    return found


def bench_throughput(db: Database, count: int = 1000) -> float:
    """Completions per second over ``count`` fresh policy_subsidy applications."""
    instances = [start(db) for _ in range(count)]
    tasks = [open_task(db, instance_id) for instance_id in instances]
    began = time.perf_counter()
    for task_id in tasks:
        apps.complete_task(db, task_id=task_id, data=RETURN, actor="zhang.wei")
    return count / (time.perf_counter() - began)


def report_database(name: str, db: Database) -> dict[str, float]:
    steps = bench_steps(db)
    iterations = bench_iterations(db)
    throughput = bench_throughput(db)
    p50, p95 = percentile(steps, 0.5), percentile(steps, 0.95)
    print(f"\n== {name} ==")
    print(f"step (load → complete → engine → save → commit): p50 {ms(p50)}, p95 {ms(p95)}"
          f"  [{len(steps)} steps]")
    print("step at loop iteration " + ", ".join(
        f"{k}: {ms(old)}" for k, (old, _new) in iterations.items())
        + f"  (300 / 1 = {iterations[300][0] / iterations[1][0]:.2f}×)")
    late, beside = iterations[300]
    print(f"  measured in turn with a new application's first step: iteration 300 "
          f"{ms(late)} beside {ms(beside)} ({late / beside:.2f}×)")
    print(f"completions per second over 1,000 policy_subsidy applications: {throughput:.0f}/s")
    return {"p50": p50, "throughput": throughput}


def main() -> None:
    from tests.bench_raw import raw_spiff_step

    print(f"Python {platform.python_version()} ({sys._base_executable}), "
          f"SQLite {sqlite3.sqlite_version}")
    raw, raw_late = raw_spiff_step()
    print(f"raw SpiffWorkflow in memory (complete + engine steps, no storage): "
          f"p50 {ms(raw)} per step at the start, {ms(raw_late)} after 150 correction loops")
    results: dict[str, dict[str, float]] = {}
    with sqlite_database() as db:
        results["SQLite"] = report_database("SQLite (file, WAL)", db)
    with postgresql_database() as pg:
        if pg is not None:
            results["PostgreSQL"] = report_database("PostgreSQL", pg)
    print("\n== ratios to raw SpiffWorkflow in memory ==")
    for name, figures in results.items():
        print(f"{name}: a stored step costs {figures['p50'] / raw:.1f}× an in-memory step")
    # the park's figures over a year of 100,000 applications last (PostgreSQL only)
    for extra in ("tests.bench_timers", "tests.bench_http", "tests.bench_inbox",
                  "tests.bench_stats"):
        _run_extra(extra)


def _run_extra(module_name: str) -> None:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return
    module.main()


if __name__ == "__main__":
    main()
