"""The tests' template databases: copies hold the template's content, leftovers are dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRESQL_URL, PostgreSQLTemplates, Seed, SQLiteTemplates, _lock_key
from webapp.db import Database, make_engine
from webapp.models import Park


def add_park(db: Database) -> None:
    with db.write() as session:
        session.add(Park(slug="copied", name="Copied", settings={}))


SEED = Seed("test_templates_one_park", add_park)


def parks_in(url: str) -> list[str]:
    database = Database(url)
    try:
        with database.read() as session:
            return list(session.scalars(select(Park.slug)))
    finally:
        database.dispose()


def test_sqlite_copies_are_independent(tmp_path: Path) -> None:
    templates = SQLiteTemplates(tmp_path)
    templates.copy(SEED, tmp_path / "one.db")
    one = Database(f"sqlite:///{tmp_path / 'one.db'}")
    with one.write() as session:
        session.add(Park(slug="only-here", name="Only here", settings={}))
    one.dispose()
    templates.copy(SEED, tmp_path / "two.db")
    assert sorted(parks_in(f"sqlite:///{tmp_path / 'one.db'}")) == ["copied", "only-here"]
    assert parks_in(f"sqlite:///{tmp_path / 'two.db'}") == ["copied"]


@pytest.mark.skipif(POSTGRESQL_URL is None, reason="PARKFLOW_TEST_DATABASE_URL is not set")
def test_postgresql_drops_what_dead_runs_left_and_keeps_what_live_ones_use() -> None:
    assert POSTGRESQL_URL is not None
    base = make_url(POSTGRESQL_URL).database
    dead, alive = f"{base}_gw97_1_dead_tpl_0", f"{base}_gw98_2_beef_3"
    admin = make_engine(POSTGRESQL_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    holder = admin.connect()
    try:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key("gw98_2_beef")})
        for name in (dead, alive):
            holder.exec_driver_sql(f'CREATE DATABASE "{name}"')
        templates = PostgreSQLTemplates(POSTGRESQL_URL)
        try:
            copy = templates.create(SEED)
            assert copy.startswith(f"{base}_{templates.tag}_")
            assert parks_in(templates.url_of(copy)) == ["copied"]
        finally:
            templates.drop_later(copy)
            templates.close()
        left = set(holder.scalars(text("SELECT datname FROM pg_database")))
        assert alive in left
        assert dead not in left
        assert not any(name.startswith(f"{base}_{templates.tag}") for name in left)
    finally:
        holder.exec_driver_sql(f'DROP DATABASE IF EXISTS "{alive}" WITH (FORCE)')
        holder.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dead}" WITH (FORCE)')
        holder.close()
        admin.dispose()
