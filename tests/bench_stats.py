"""How fast the park's figures come with a year of a busy park (goal: p95 ≤ 300 ms).

Run with ``make bench-stats`` (``python -m tests.bench_stats [--applications N]``). On a
scratch PostgreSQL database next to PARKFLOW_BENCH_DATABASE_URL (default: the local test
database) it writes, with a few INSERT … SELECT statements, ``N`` (100,000) finished
applications of the demo park received over a year, each with three steps and a third of
them rated, then asks ``GET /api/v1/parks/demo/stats`` through the test client: the whole
year, one month, one procedure, and as a reviewer. Prints p50/p95, asserts nothing.

The rows are written as an older release left them (no stored days, no task groups), then
filled the way migration 0017 fills them, timed. ``--explain`` prints the plan of every
statement of each query shape (EXPLAIN ANALYZE); ``--keep`` keeps the database and
``--filled URL`` measures one kept before, without writing anything.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

from tests.bench_inbox_scale import DEFAULT_URL, scratch_database
from tests.webapp.apptools import bearer, make_app
from webapp.db import Database
from webapp.demo import create_demo
from webapp.extensions import store
from webapp.migrate import upgrade
from webapp.models import Enterprise, Park, ProcessDefinition

APPLICATIONS = 100_000
ROUNDS = 60
WARM_UP = 5
MIGRATION = (Path(__file__).resolve().parents[1] / "webapp" / "migrations" / "versions"
             / "0017_rating_loop.py")
SHAPES = (
    ("the whole year", "admin", ""),
    ("one month", "admin", "from=2026-03-01&to=2026-03-31"),
    ("one procedure, a quarter", "admin",
     "from=2026-01-01&to=2026-03-31&process_key=policy_subsidy"),
    ("a reviewer's groups, the year", "zhang.wei", ""),
)

# received every few minutes through a year from 1 Dec 2025; answered within 1–25 days,
# the promise 15 days on; a few in every hundred paused a day for a correction
INSTANCES_SQL = """
INSERT INTO instances (id, park_id, definition_id, enterprise_id, reference, status, result,
                       state, data_summary, correlations, version, started_at, ended_at,
                       promised_at, paused_seconds)
SELECT md5('i' || g)::uuid::text, :park, d.id, :enterprise,
       'BENCH-' || lpad(g::text, 7, '0'), 'completed',
       CASE WHEN g % 10 = 0 THEN 'rejected' ELSE 'approved' END, ''::bytea, '{}'::jsonb,
       '{}'::jsonb, 1, s.at, s.at + ((g * 7919) % 600 + 24) * interval '1 hour',
       s.at + interval '15 days' + CASE WHEN g % 50 = 0 THEN interval '1 day' ELSE
       interval '0' END, CASE WHEN g % 50 = 0 THEN 86400 ELSE 0 END
FROM generate_series(0, :n - 1) AS g
JOIN (SELECT id, row_number() OVER (ORDER BY key) - 1 AS k FROM process_definitions
      WHERE park_id = :park) AS d ON d.k = g % :definitions
CROSS JOIN LATERAL (SELECT TIMESTAMPTZ '2025-12-01 01:00+00'
                           + (g * (365.0 * 86400 / :n)) * interval '1 second' AS at) AS s
"""
TASKS_SQL = """
INSERT INTO human_tasks (id, instance_id, park_id, element_id, name, lane, candidate_groups,
                         candidate_users, priority, created_at, due_at, completed_at,
                         completed_by, outcome, status)
SELECT md5('t' || g || '-' || step)::uuid::text, i.id, i.park_id, 'step_' || step,
       '环节 ' || step, grp, jsonb_build_array(grp), '[]'::jsonb, 50,
       i.started_at + (i.ended_at - i.started_at) * (step - 1) / 3,
       i.started_at + (i.ended_at - i.started_at) * (step - 1) / 3 + interval '3 days',
       i.started_at + (i.ended_at - i.started_at) * step / 3, 'zhang.wei', 'approve',
       'completed'
FROM generate_series(0, :n - 1) AS g
JOIN instances AS i ON i.id = md5('i' || g)::uuid::text
CROSS JOIN generate_series(1, 3) AS step
CROSS JOIN LATERAL (SELECT (CAST(:groups AS text[]))[1 + (g + step) % 4] AS grp) AS x
"""
RATINGS_SQL = """
INSERT INTO ratings (instance_id, park_id, grade, rated_by, rated_at)
SELECT id, park_id, 1 + (abs(hashtext(id)) % 5), NULL, ended_at + interval '1 day'
FROM instances WHERE park_id = :park AND abs(hashtext(id)) % 3 = 0
"""


def percentile(samples: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the samples lie."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def fill(db: Database, applications: int) -> float:
    """The demo park and its history; seconds taken."""
    began = time.perf_counter()
    with db.write() as session:
        create_demo(session, actor="bench")
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        enterprise = session.scalars(select(Enterprise.id).where(
            Enterprise.park_id == park.id)).first()
        definitions = len(session.scalars(select(ProcessDefinition.id).where(
            ProcessDefinition.park_id == park.id)).all())
        values = {"park": park.id, "enterprise": enterprise, "n": applications,
                  "definitions": definitions,
                  "groups": ["政策审核组", "部门负责人", "园区领导", "财务部"]}
        for statement in (INSTANCES_SQL, TASKS_SQL, RATINGS_SQL):
            session.execute(text(statement), values)
    return time.perf_counter() - began


def backfill(db: Database) -> float:
    """Fill the stored days and task groups as migration 0017 does; seconds taken."""
    spec = importlib.util.spec_from_file_location("rating_loop", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    began = time.perf_counter()
    with db.write() as session:
        session.execute(text(migration.BACKFILL_GROUPS["postgresql"]))
        session.execute(text(migration.BACKFILL_DAYS))
        session.execute(text(migration.BACKFILL_TASK_DAYS))
        session.execute(text(migration.BACKFILL_RECEIVED))
    taken = time.perf_counter() - began
    # the updated rows leave dead versions behind: cleared, and the planner's figures fresh
    with db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    return taken


@contextmanager
def statements_of(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) the app sends while inside."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def explain(db: Database, seen: list[tuple[str, Any]]) -> None:
    """Print EXPLAIN ANALYZE of the statements that read instances or tasks (with JIT off,
    as the stats transaction sets it)."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET jit = off")
        for statement, parameters in seen:
            if "instances" not in statement and "human_tasks" not in statement:
                continue
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor = connection.connection.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = [row[0] for row in cursor.fetchall()]
            print("   ", " ".join(statement.split())[:160], "…")
            for line in plan:
                print("      ", line)


def main() -> None:
    """Print the p50/p95 of the stats call over a year of ``--applications`` applications."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=APPLICATIONS)
    parser.add_argument("--url", default=DEFAULT_URL, help="a server's database to start from")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument("--keep", action="store_true", help="keep the filled database")
    parser.add_argument("--filled", help="measure this database, filled before with --keep")
    parser.add_argument("--only", help="measure only the query shapes whose name has this")
    args = parser.parse_args()
    place = (nullcontext(args.filled) if args.filled
             else scratch_database(args.url, keep=args.keep))
    with place as url, tempfile.TemporaryDirectory() as folder:
        if not args.filled:
            upgrade(url)
            db = Database(url)
            seconds = fill(db, args.applications)
            print(f"wrote {args.applications} finished applications (3 steps each) in "
                  f"{seconds:.1f} s")
            print(f"filled their days and task groups as migration 0017 does in "
                  f"{backfill(db):.1f} s")
            db.engine.dispose()
        app = make_app(url, Path(folder) / "instance")
        client = app.test_client()
        for label, who, query in SHAPES:
            if args.only and args.only not in label:
                continue
            headers = bearer(client, who)
            samples = []
            for round_number in range(WARM_UP + args.rounds):
                started = time.perf_counter()
                answer = client.get(f"/api/v1/parks/demo/stats?{query}", headers=headers)
                elapsed = time.perf_counter() - started
                assert answer.status_code == 200, answer.json
                if round_number >= WARM_UP:
                    samples.append(elapsed)
            print(f"stats, {label} ({answer.json['applications']} applications): "
                  f"p50 {statistics.median(samples) * 1000:.0f} ms, "
                  f"p95 {percentile(samples, 0.95) * 1000:.0f} ms")
            if args.explain:
                with app.app_context():
                    with statements_of(store.database) as seen:
                        client.get(f"/api/v1/parks/demo/stats?{query}", headers=headers)
                    explain(store.database, seen)


if __name__ == "__main__":
    main()
