"""How fast the park's figures come with a year of a busy park (goal: p95 ≤ 300 ms).

Run with ``make bench-stats`` (``python -m tests.bench_stats [--applications N]``). On a
scratch PostgreSQL database next to PARKFLOW_BENCH_DATABASE_URL (default: the local test
database) it writes, with a few INSERT … SELECT statements, ``N`` (100,000) finished
applications of the demo park received over a year, each with three steps and a third of
them rated, then asks ``GET /api/v1/parks/demo/stats`` through the test client: the whole
year, one month, one procedure, and as a reviewer. Prints p50/p95, asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text

from tests.bench_inbox_scale import DEFAULT_URL, scratch_database
from tests.webapp.apptools import bearer, make_app
from webapp.db import Database
from webapp.demo import create_demo
from webapp.migrate import upgrade
from webapp.models import Enterprise, Park, ProcessDefinition

APPLICATIONS = 100_000
ROUNDS = 60
WARM_UP = 5

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
    with db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def main() -> None:
    """Print the p50/p95 of the stats call over a year of ``--applications`` applications."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=APPLICATIONS)
    parser.add_argument("--url", default=DEFAULT_URL, help="a server's database to start from")
    args = parser.parse_args()
    with scratch_database(args.url) as url, tempfile.TemporaryDirectory() as folder:
        upgrade(url)
        db = Database(url)
        seconds = fill(db, args.applications)
        print(f"wrote {args.applications} finished applications (3 steps each) in "
              f"{seconds:.1f} s")
        db.engine.dispose()
        app = make_app(url, Path(folder) / "instance")
        client = app.test_client()
        for label, who, query in (
                ("the whole year", "admin", ""),
                ("one month", "admin", "from=2026-03-01&to=2026-03-31"),
                ("one procedure, a quarter", "admin",
                 "from=2026-01-01&to=2026-03-31&process_key=policy_subsidy"),
                ("a reviewer's groups, the year", "zhang.wei", "")):
            headers = bearer(client, who)
            samples = []
            for round_number in range(WARM_UP + ROUNDS):
                started = time.perf_counter()
                answer = client.get(f"/api/v1/parks/demo/stats?{query}", headers=headers)
                elapsed = time.perf_counter() - started
                assert answer.status_code == 200, answer.json
                if round_number >= WARM_UP:
                    samples.append(elapsed)
            print(f"stats, {label} ({answer.json['applications']} applications): "
                  f"p50 {statistics.median(samples) * 1000:.0f} ms, "
                  f"p95 {percentile(samples, 0.95) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
