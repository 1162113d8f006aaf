"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL.

Set PARKFLOW_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run
every database test a second time on PostgreSQL; each test gets its own schema there, so
parallel runs (pytest -n 2) share the one database safely.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from webapp.db import Database, make_engine

POSTGRESQL_URL = os.environ.get("PARKFLOW_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRESQL_URL else [])


@pytest.fixture(scope="session")
def postgresql_admin() -> Iterator[Engine]:
    """An engine on the PostgreSQL test database, for creating and dropping schemas."""
    assert POSTGRESQL_URL is not None
    engine = make_engine(POSTGRESQL_URL, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parkflow.db'}"
        return
    admin: Engine = request.getfixturevalue("postgresql_admin")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(POSTGRESQL_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        # a connection leaked by a failed test must not hang the whole run
        connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated, empty database."""
    from webapp.migrate import upgrade

    upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Callable[..., Result]:
    """Run ``parkflow ARGS...`` against the test database; returns click's Result."""
    from webapp.cli import main

    env: dict[str, str | None] = {
        "PARKFLOW_DATABASE_URL": database_url,
        "PARKFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARKFLOW_DEBUG": None,
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def instance_id(db: Database) -> str:
    """The id of an active application in park 'demo', at version 1."""
    from webapp.models import Instance, Park, ProcessDefinition, allocate_reference

    with db.write() as session:
        park = Park(slug="demo", name="Demo Park", settings={})
        session.add(park)
        session.flush()
        definition = ProcessDefinition(
            park_id=park.id,
            key="policy_subsidy",
            version=1,
            name="Policy subsidy",
            content_hash="0" * 64,
            bpmn_xml="<definitions/>",
        )
        session.add(definition)
        session.flush()
        instance = Instance(
            park_id=park.id,
            definition_id=definition.id,
            reference=allocate_reference(session, park, 2026),
            state=b"{}",
            data_summary={"count": 0},
        )
        session.add(instance)
        session.flush()
        return instance.id
