"""The inbox at scale on PostgreSQL: 1,000,000 open tasks across 50 parks (goal: p95 ≤ 50 ms).

Run with ``python -m tests.bench_inbox_scale`` or ``make bench-scale`` (filling the database
takes a few minutes, so ``make bench`` leaves it out). The database is
PARKFLOW_BENCH_DATABASE_URL (default: the local test database); the bench makes its own
database next to it and drops it afterwards.

The demo park and 49 more parks get 20,000 synthetic applications each, every one with an
open 初审 waiting for one of the park's six groups (round robin), a tenth of them overdue.
The rows are written with ``INSERT … SELECT generate_series`` straight into the tables, not
through the engine. Measured through the test client (the app in this process, no HTTP):
the API inbox (``GET /api/v1/tasks``) and the inbox page, for a reviewer of one group of the
demo park (who sees a sixth of that park's tasks) and for the park's administrator (who
sees all of them). Prints figures and the plan of the slowest statement, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url

from tests.bench_inbox import percentile
from tests.webapp.apptools import csrf_of, make_app
from webapp.db import Database
from webapp.demo import GROUPS, PASSWORD, create_demo
from webapp.extensions import DATABASE_KEY
from webapp.migrate import upgrade
from webapp.models import Enterprise, Park, ProcessDefinition

DEFAULT_URL = os.environ.get(
    "PARKFLOW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
PARKS = 50
TASKS = 1_000_000
ROUNDS = 100
WARM_UP = 5

INSTANCES_SQL = """
INSERT INTO instances (id, park_id, definition_id, enterprise_id, reference, status, state,
                       data_summary, correlations, version, started_at, paused_seconds)
SELECT md5('i' || g)::uuid::text, p.id, :definition, :enterprise,
       'SYN-2026-' || lpad(g::text, 7, '0'), 'active', ''::bytea, '{}'::jsonb, '{}'::jsonb, 1,
       :now - interval '1 day', 0
FROM generate_series(0, :tasks - 1) AS g
JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM parks) AS p
  ON p.n = g % :parks
"""
TASKS_SQL = """
INSERT INTO human_tasks (id, instance_id, park_id, element_id, name, lane, candidate_groups,
                         candidate_users, assignee, form_key, priority, created_at, due_at,
                         follow_up_at, status)
SELECT md5('t' || g)::uuid::text, md5('i' || g)::uuid::text, p.id, 'preliminary_review',
       '初审', grp.name, jsonb_build_array(grp.name), '[]'::jsonb, NULL,
       'policy_subsidy_review', 50, :now - interval '1 day' - g * interval '1 second',
       due.at, due.at - interval '1 day', 'open'
FROM generate_series(0, :tasks - 1) AS g
JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM parks) AS p
  ON p.n = g % :parks
JOIN (SELECT name, ordinality - 1 AS n FROM unnest(CAST(:groups AS text[]))
      WITH ORDINALITY AS u(name, ordinality)) AS grp
  ON grp.n = (g / :parks) % :group_count
CROSS JOIN LATERAL (SELECT :now + ((g / :parks) % 2000 - 200) * interval '1 hour'
                           + interval '30 minutes' AS at) AS due
"""


@contextmanager
def scratch_database(base_url: str, *, keep: bool = False) -> Iterator[str]:
    """A new, empty database on the server of ``base_url``; its URL. Dropped afterwards
    unless ``keep``."""
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"{url.database}_inbox_scale_{os.getpid()}_{secrets.token_hex(2)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    made = url.set(database=name).render_as_string(hide_password=False)
    try:
        yield made
    finally:
        if keep:
            print(f"kept {made}: measure it again with --url, drop it with DROP DATABASE")
        else:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def fill(db: Database, *, parks: int = PARKS, tasks: int = TASKS) -> float:
    """The demo park and ``parks - 1`` more, ``tasks`` open tasks across them; seconds taken."""
    began = time.perf_counter()
    with db.write() as session:
        create_demo(session, actor="bench")
        session.execute(
            text(
                "INSERT INTO parks (id, slug, name, timezone, settings, created_at, "
                "calendar_revision) SELECT md5('p' || n)::uuid::text, 'park-' || lpad(n::text, 2, "
                "'0'), 'Park ' || n, timezone, '{}'::jsonb, created_at, 0 FROM parks, "
                "generate_series(1, :more) AS n WHERE slug = 'demo'"
            ),
            {"more": parks - 1},
        )
        demo = session.scalars(select(Park).where(Park.slug == "demo")).one()
        definition = session.scalars(
            select(ProcessDefinition.id)
            .where(ProcessDefinition.park_id == demo.id, ProcessDefinition.key == "policy_subsidy")
            .order_by(ProcessDefinition.version.desc())
        ).first()
        enterprise = session.scalars(
            select(Enterprise.id).where(Enterprise.park_id == demo.id).order_by(Enterprise.name)
        ).first()
        values = {
            "definition": definition,
            "enterprise": enterprise,
            "tasks": tasks,
            "parks": parks,
            "now": datetime.now(UTC),
            "groups": list(GROUPS),
            "group_count": len(GROUPS),
        }
        session.execute(text(INSTANCES_SQL), values)
        session.execute(text(TASKS_SQL), values)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE instances")
        connection.exec_driver_sql("VACUUM ANALYZE human_tasks")
    return time.perf_counter() - began


class Statements:
    """The statements one request runs, with their durations."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[float, str, Any]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        conn.info["parkflow_bench_began"] = time.perf_counter()

    def _after(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self.on:
            took = time.perf_counter() - conn.info.pop("parkflow_bench_began")
            self.seen.append((took, statement, parameters))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[float, str, Any]]]:
        self.seen = []
        self.on = True
        try:
            yield self.seen
        finally:
            self.on = False


def measure(call: Callable[[], Any]) -> tuple[float, float]:
    samples = []
    for round_number in range(WARM_UP + ROUNDS):
        began = time.perf_counter()
        call()
        if round_number >= WARM_UP:
            samples.append(time.perf_counter() - began)
    return statistics.median(samples), percentile(samples, 0.95)


def signed_in(client: FlaskClient, username: str) -> dict[str, str]:
    """Sign ``client`` in to the pages as ``username``; the API's Authorization header."""
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_of(client.get("/login")),
        },
    )
    assert answer.status_code == 302, answer.status_code
    token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.json
    return {"Authorization": f"Bearer {token.json['token']}"}


def run(
    database_url: str,
    *,
    parks: int = PARKS,
    tasks: int = TASKS,
    explain: bool = True,
    keep: bool = False,
    filled: str | None = None,
) -> list[dict[str, Any]]:
    """Fill a scratch database (or take the ``filled`` one) and measure; one row of figures
    per request measured. ``keep``: leave the scratch database for a later ``filled`` run."""
    with ExitStack() as stack:
        if filled is None:
            url = stack.enter_context(scratch_database(database_url, keep=keep))
            upgrade(url)
            db = Database(url)
            took = fill(db, parks=parks, tasks=tasks)
            db.dispose()
            print(f"wrote {tasks:,} open tasks across {parks} parks in {took:.0f} s")
        else:
            url = filled
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        return measure_all(url, folder, explain=explain)


def measure_all(url: str, folder: Path, *, explain: bool) -> list[dict[str, Any]]:
    """The figures of every request measured on the filled database at ``url``."""
    figures: list[dict[str, Any]] = []
    db = Database(url)
    app = make_app(url, folder / "instance")
    statements = Statements(app.extensions[DATABASE_KEY].engine)
    for username, who in (("zhang.wei", "reviewer, one group"), ("admin", "park admin")):
        client = app.test_client()
        bearer = signed_in(client, username)
        first = client.get("/api/v1/tasks?limit=50", headers=bearer)
        assert first.status_code == 200, first.status_code
        following = first.headers.get("Link", "").split(";")[0].strip("<>")
        requests = [
            ("GET /api/v1/tasks", "/api/v1/tasks", bearer),
            ("GET /api/v1/tasks?scope=groups", "/api/v1/tasks?scope=groups", bearer),
            ("GET /api/v1/tasks next page", following, bearer),
            ("/inbox", "/inbox", {}),
            ("/inbox?q=reference", "/inbox?q=SYN-2026-0000050", {}),
            ("/inbox?process=policy_subsidy", "/inbox?process=policy_subsidy", {}),
        ]
        for label, path, headers in requests:
            if not path:
                continue

            def get(
                path: str = path, headers: dict[str, str] = headers, client: Any = client
            ) -> None:
                answer = client.get(path, headers=headers)
                assert answer.status_code == 200, (path, answer.status_code)

            p50, p95 = measure(get)
            with statements.recording() as seen:
                get()
            slowest = max(seen, key=lambda row: row[0]) if seen else None
            row = {
                "user": who,
                "request": label,
                "p50_ms": p50 * 1000,
                "p95_ms": p95 * 1000,
                "statements": len(seen),
                "slowest_ms": slowest[0] * 1000 if slowest else 0.0,
            }
            figures.append(row)
            print(
                f"{who:<20} {label:<32} p50 {row['p50_ms']:6.1f} ms   p95 "
                f"{row['p95_ms']:6.1f} ms   {row['statements']} statements, slowest "
                f"{row['slowest_ms']:.1f} ms"
            )
            if explain and slowest is not None and p95 > 0.05:
                print_plan(db.engine, slowest[1], slowest[2])

    db.dispose()
    return figures


def print_plan(engine: Engine, statement: str, parameters: Any) -> None:
    """EXPLAIN ANALYZE of one statement as the app ran it."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join("    " + row[0] for row in cursor.fetchall())
        raw.rollback()
    print("  its slowest statement:\n    " + " ".join(statement.split())[:600] + "\n" + plan)


def main() -> None:
    # a stopped run drops its database too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    print(f"\n== inbox at scale (PostgreSQL, {TASKS:,} open tasks, {PARKS} parks) ==")
    parser = argparse.ArgumentParser(prog="python -m tests.bench_inbox_scale")
    parser.add_argument("--keep", action="store_true", help="keep the filled database")
    parser.add_argument("--url", help="measure this database, filled by an earlier --keep")
    parser.add_argument("--no-explain", action="store_true", help="print no query plans")
    options = parser.parse_args()
    try:
        run(DEFAULT_URL, explain=not options.no_explain, keep=options.keep, filled=options.url)
    except Exception as exc:  # noqa: BLE001 -- no PostgreSQL here: say so and move on
        print(f"skipped: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
