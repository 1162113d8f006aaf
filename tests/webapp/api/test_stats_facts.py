"""The days stored when an application ends, and the figures read from them.

The figures computed from the stored days must be the ones computed from the moments (the
fixed history of ``stats_history`` stores none); the migration's backfill on PostgreSQL must
store what a completion stores; a completion through the API stores them, and every task
its group.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import start, step
from tests.webapp.api.stats_history import NOW, build_history
from webapp.db import Database
from webapp.models import HumanTask, Instance, Park
from webapp.services import facts
from webapp.services.calendars import park_calendar

URL = "/api/v1/parks/demo/stats"
QUERIES = (
    "",
    "from=2026-03-01&to=2026-03-31",
    "from=2026-03-10",
    "process_key=api_probe&to=2026-03-20",
)
MIGRATION = (
    Path(__file__).resolve().parents[3]
    / "webapp"
    / "migrations"
    / "versions"
    / "0017_rating_loop.py"
)
COLUMNS = ("started_at", "ended_at", "promised_at", "paused_seconds")


def figures(client: FlaskClient, login: Login) -> list[Any]:
    found = []
    for who in ("admin", "zhang.wei"):
        for query in QUERIES:
            response = client.get(f"{URL}?{query}", headers=login(who))
            assert response.status_code == 200, response.json
            found.append(response.json)
    return found


def expected_days(db: Database) -> dict[str, dict[str, Any]]:
    """Each ended application's days, as a completion stores them."""
    with db.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        calendar = park_calendar(park, session)
        return {
            row.id: facts.ended_days({key: getattr(row, key) for key in COLUMNS}, calendar)
            for row in session.scalars(
                select(Instance).where(Instance.park_id == park.id, Instance.ended_at.is_not(None))
            )
        }


def stored_days(db: Database) -> dict[str, dict[str, Any]]:
    with db.read() as session:
        return {
            row.id: {
                "receipt_day": row.receipt_day,
                "end_day": row.end_day,
                "promise_day": row.promise_day,
            }
            for row in session.scalars(select(Instance).where(Instance.ended_at.is_not(None)))
        }


def task_days(db: Database) -> dict[str, tuple[Any, Any]]:
    with db.read() as session:
        return {
            row.id: (row.created_day, row.completed_day)
            for row in session.scalars(select(HumanTask).where(HumanTask.created_day.is_not(None)))
        }


def test_the_stored_days_give_the_same_figures(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    build_history(parks)
    with time_machine.travel(NOW, tick=False):
        computed = figures(client, login)
        days = expected_days(parks)
        assert len(days) >= 5
        with parks.write() as session:
            park = session.scalars(select(Park).where(Park.slug == "demo")).one()
            for instance_id, values in days.items():
                session.execute(update(Instance).where(Instance.id == instance_id).values(**values))
                facts.date_tasks(
                    session,
                    session.get_one(Instance, instance_id),
                    park,
                    park_calendar(park, session),
                )
        assert task_days(parks)
        assert figures(client, login) == computed
        # tasks written without their application's time of receipt count all the same
        with parks.write() as session:
            session.execute(update(HumanTask).values(received_at=None))
        assert figures(client, login) == computed
        # and the stored days are what is read: moved, the figures move
        with parks.write() as session:
            session.execute(
                update(Instance)
                .where(Instance.id.in_(list(days)))
                .values(end_day=Instance.receipt_day)
            )
        moved = client.get(URL, headers=login("admin")).json
        assert moved["avg_working_days"] == 0.0 != computed[0]["avg_working_days"]


def test_the_migration_backfills_what_a_completion_stores(parks: Database) -> None:
    build_history(parks)
    if parks.engine.dialect.name != "postgresql":
        return  # SQLite keeps older rows' days empty: the figures compute them
    spec = importlib.util.spec_from_file_location("rating_loop", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with parks.write() as session:
        session.execute(text(migration.BACKFILL_DAYS))
        session.execute(text(migration.BACKFILL_TASK_DAYS))
    stored = stored_days(parks)
    assert len(stored) >= 5 and stored == expected_days(parks)
    backfilled = task_days(parks)
    assert backfilled
    with parks.write() as session:
        session.execute(update(HumanTask).values(created_day=None, completed_day=None))
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        for instance_id in stored:
            facts.date_tasks(
                session, session.get_one(Instance, instance_id), park, park_calendar(park, session)
            )
    assert task_days(parks) == backfilled


def test_a_completion_stores_its_days_and_every_task_its_group(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    view = start(client, login("xinghe"))
    done = client.post(
        f"/api/v1/tasks/{step(view, 'probe_review')}/complete",
        json={"data": {"outcome": "approve"}},
        headers=login("zhang.wei"),
    )
    assert done.status_code == 200
    with parks.read() as session:
        row = session.get_one(Instance, view["id"])
        assert (row.receipt_day, row.end_day, row.promise_day) == (None, None, None)
    paid = client.post(
        f"/api/v1/instances/{view['id']}/messages/payment_received",
        json={"payload": {}},
        headers=login("zhao.min"),
    )
    assert paid.json["status"] == "completed"
    with parks.read() as session:
        row = session.get_one(Instance, view["id"])
        assert {
            "receipt_day": row.receipt_day,
            "end_day": row.end_day,
            "promise_day": row.promise_day,
        } == expected_days(parks)[row.id]
        assert row.receipt_day is not None and row.end_day is not None
        groups = session.scalars(
            select(HumanTask.group_name).where(HumanTask.instance_id == row.id)
        ).all()
        assert groups == ["政策审核组"]
        created, completed = session.execute(
            select(HumanTask.created_day, HumanTask.completed_day).where(
                HumanTask.instance_id == row.id
            )
        ).one()
        assert created is not None and completed is not None
        # and when its application was received, as the task was made
        assert session.scalars(
            select(HumanTask.received_at).where(HumanTask.instance_id == row.id)
        ).all() == [row.started_at]
