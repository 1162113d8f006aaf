"""Shared fixtures: a database per test, on SQLite and (when configured) PostgreSQL.

Set PARKFLOW_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run
every database test a second time on PostgreSQL.

Migrating and seeding a database costs far more than most tests, so each test process
(each xdist worker) migrates and seeds one *template* per kind of content once, and every
test gets a copy of it: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE …`` on
PostgreSQL. What a test starts with is its ``seed``: the root ``seed`` fixture gives a
migrated, empty database to tests that ask for ``db`` (and a fresh, unmigrated one to tests
that only ask for ``database_url``); conftests further down override ``seed`` for the
fixtures that fill the database (``demo_db``, ``parks``), so those fixtures only hand back
``db``.

On PostgreSQL the databases are named after the configured one plus this process's worker
id, pid and a random tag (``test_gw0_4242_9f1c_…``), so several checkouts can share one
server. Each process holds an advisory lock on its tag while it runs; a database whose tag
nobody holds (left by a run that was killed) is dropped when the next run starts.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from webapp.db import Database, make_engine

POSTGRESQL_URL = os.environ.get("PARKFLOW_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRESQL_URL else [])


class Seed(NamedTuple):
    """What a test's database holds when the test starts: migrated, then ``build`` run on it.

    ``name`` names the template; two seeds with one name must build the same content.
    """

    name: str
    build: Callable[[Database], None] | None = None


MIGRATED = Seed("migrated")


def _template_key(seed: Seed) -> str:
    """The seed's name and the password hashing in force: hashes are part of the content."""
    from webapp import security

    hasher = security._hasher
    return f"{seed.name}_{hasher.time_cost}_{hasher.memory_cost}_{hasher.parallelism}"


def _fill(url: str, seed: Seed) -> None:
    from webapp.migrate import upgrade

    upgrade(url)
    if seed.build is not None:
        database = Database(url)
        try:
            seed.build(database)
        finally:
            database.dispose()


class SQLiteTemplates:
    """Template files in one folder of the session; a test's database is a copy of one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[str, Path] = {}

    def copy(self, seed: Seed, target: Path) -> None:
        key = _template_key(seed)
        if key not in self.made:
            path = self.folder / f"{key}.db"
            _fill(f"sqlite:///{path}", seed)
            # everything in the main file, so that copying that one file copies it all
            with sqlite3.connect(path) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            self.made[key] = path
        shutil.copyfile(self.made[key], target)


class PostgreSQLTemplates:
    """Template databases of this process on the test server, and the tests' copies."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        base = self.url.database or "postgres"
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.tag = f"{worker}_{os.getpid()}_{secrets.token_hex(2)}"
        self.prefix = f"{base}_{self.tag}"
        self.leftover = re.compile(rf"^{re.escape(base)}_((?:gw\d+|main)_\d+_[0-9a-f]{{4}})_")
        self.admin = make_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        # held until this process ends: the mark that its databases are in use
        self.lock: Connection = self.admin.connect()
        self.lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key(self.tag)})
        self.made: dict[str, str] = {}
        self.count = 0
        self.drops: queue.Queue[str | None] = queue.Queue()
        self.dropper = threading.Thread(target=self._drop_queued, daemon=True)
        self.dropper.start()
        self._drop_leftovers()

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, seed: Seed | None) -> str:
        """A new database for one test, a copy of ``seed``'s template (or empty); its name."""
        template = "template0"
        if seed is not None:
            key = _template_key(seed)
            if key not in self.made:
                name = f"{self.prefix}_tpl_{len(self.made)}"
                self._execute(f'CREATE DATABASE "{name}"')
                _fill(self.url_of(name), seed)
                self.made[key] = name
            template = self.made[key]
        self.count += 1
        name = f"{self.prefix}_{self.count}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_later(self, name: str) -> None:
        """Drop the database in the background: the next test need not wait for it."""
        self.drops.put(name)

    def close(self) -> None:
        self.drops.put(None)
        self.dropper.join()
        for name in self.made.values():
            self._drop(name)
        self.lock.close()
        self.admin.dispose()

    def _drop_queued(self) -> None:
        while (name := self.drops.get()) is not None:
            self._drop(name)

    def _drop(self, name: str) -> None:
        # FORCE: a connection a failed test leaked must not keep its database alive
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _drop_leftovers(self) -> None:
        with self.admin.connect() as connection:
            names = connection.scalars(text("SELECT datname FROM pg_database")).all()
            for name in names:
                found = self.leftover.match(name)
                if found is None or found.group(1) == self.tag:
                    continue
                key = {"key": _lock_key(found.group(1))}
                # its process holds the lock while it runs: free means it is gone
                if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)


def _lock_key(tag: str) -> int:
    return zlib.crc32(f"parkflow-tests:{tag}".encode())


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SQLiteTemplates:
    return SQLiteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def postgresql_templates() -> Iterator[PostgreSQLTemplates]:
    assert POSTGRESQL_URL is not None
    templates = PostgreSQLTemplates(POSTGRESQL_URL)
    yield templates
    templates.close()


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> Seed | None:
    """What the test's database starts with; None: nothing, not even the schema."""
    return MIGRATED if "db" in request.fixturenames else None


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, seed: Seed | None
) -> Iterator[str]:
    """The URL of the test's own database, holding what ``seed`` says."""
    from webapp.services import prediction
    from webapp.services.calendars import forget_calendars

    # the copies share the template's park ids: a calendar (or a prediction's figures) cached
    # for one is not another's
    forget_calendars()
    prediction.forget()
    if request.param == "sqlite":
        path = tmp_path / "parkflow.db"
        if seed is not None:
            request.getfixturevalue("sqlite_templates").copy(seed, path)
        yield f"sqlite:///{path}"
        return
    templates: PostgreSQLTemplates = request.getfixturevalue("postgresql_templates")
    name = templates.create(seed)
    yield templates.url_of(name)
    templates.drop_later(name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's database, migrated (and filled as ``seed`` says)."""
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
