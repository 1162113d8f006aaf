"""Concurrent writers: row locks on PostgreSQL, BEGIN IMMEDIATE on SQLite, versions on both."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from webapp.db import Database, WriterQueue, lock_instance, make_engine
from webapp.migrate import upgrade
from webapp.models import Instance, Park, allocate_reference
from webapp.services import Conflict

T = TypeVar("T")
# long enough that the other thread is certainly waiting on the lock meanwhile
HOLD_SECONDS = 0.3


def run_together(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(0..count-1)`` in threads released at the same moment; collect outcomes."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(index)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def test_concurrent_completions_exactly_one_wins(db: Database, instance_id: str) -> None:
    def complete(index: int) -> str:
        with db.write() as session:
            # both callers saw version 1 when they opened the task
            instance = lock_instance(session, instance_id, expected_version=1)
            time.sleep(HOLD_SECONDS)
            instance.data_summary = {"completed_by": f"reviewer{index}"}
            return f"reviewer{index}"

    outcomes = run_together(2, complete)

    winners = [outcome for outcome in outcomes if isinstance(outcome, str)]
    losers = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert len(winners) == 1
    # a Conflict (not a StaleDataError at commit) shows the loser waited for the lock
    assert len(losers) == 1 and isinstance(losers[0], Conflict), losers
    with db.read() as session:
        instance = session.get_one(Instance, instance_id)
        assert instance.data_summary == {"completed_by": winners[0]}
        assert instance.version == 2


def test_locked_read_modify_write_loses_no_update(db: Database, instance_id: str) -> None:
    def increment(_index: int) -> None:
        with db.write() as session:
            instance = lock_instance(session, instance_id)
            count = instance.data_summary["count"]
            time.sleep(0.01)
            instance.data_summary = {"count": count + 1}

    outcomes = run_together(10, increment)

    assert outcomes == [None] * 10
    with db.read() as session:
        instance = session.get_one(Instance, instance_id)
        assert instance.data_summary == {"count": 10}
        assert instance.version == 11


def test_concurrent_starts_get_distinct_references(db: Database) -> None:
    with db.write() as session:
        park = Park(slug="demo", name="Demo", settings={})
        session.add(park)
    park_id = park.id

    def take(_index: int) -> str:
        with db.write() as session:
            return allocate_reference(session, session.get_one(Park, park_id), 2026)

    outcomes = run_together(10, take)

    assert sorted(outcomes) == [f"DEMO-2026-{n:06d}" for n in range(1, 11)]  # type: ignore[type-var]


# --- SQLite only: the immediate transaction is what serializes writers -------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'parkflow.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def test_sqlite_writers_serialize_without_locked_errors(sqlite_db: Database) -> None:
    with sqlite_db.write() as session:
        session.add(Park(slug="demo", name="Demo", settings={"n": 0}))

    def increment(_index: int) -> None:
        with sqlite_db.write() as session:
            # a plain read, no row lock: only BEGIN IMMEDIATE keeps this safe
            park = session.scalars(select(Park).where(Park.slug == "demo")).one()
            count = park.settings["n"]
            time.sleep(0.01)
            park.settings = {"n": count + 1}

    outcomes = run_together(10, increment)

    assert outcomes == [None] * 10
    with sqlite_db.read() as session:
        assert session.scalars(select(Park.settings)).one() == {"n": 10}


def test_sqlite_write_takes_the_write_lock_before_any_statement(
    sqlite_db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "parkflow.db", timeout=0, isolation_level=None)
    with sqlite_db.write(), pytest.raises(sqlite3.OperationalError, match="database is locked"):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_a_write_lock_held_elsewhere_is_sqlalchemys_operational_error(
    tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'parkflow.db'}"
    upgrade(url)
    # one pooled connection that gives up at once instead of waiting ten seconds
    database = Database(url, poolclass=StaticPool)
    with database.engine.connect() as connection:
        connection.connection.dbapi_connection.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(tmp_path / "parkflow.db", timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        # what the API answers 503 for: SQLAlchemy's error, not the driver's own
        with pytest.raises(OperationalError, match="database is locked"), database.write():
            pass
    finally:
        other.execute("ROLLBACK")
        other.close()
    with database.write() as session:
        session.add(Park(slug="after", name="After"))
    database.dispose()


def test_sqlite_reads_do_not_block_writers(sqlite_db: Database, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "parkflow.db", timeout=0, isolation_level=None)
    with sqlite_db.read() as session:
        session.scalars(select(Park)).all()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()


def test_writer_queues_of_separate_processes_take_turns_on_the_lock_file(
    tmp_path: Path,
) -> None:
    # two queues on one database hold descriptors of their own, as two processes would;
    # no SQLite is involved, so only the file lock can keep the second one out
    path = str(tmp_path / "parkflow.db")
    first, second = WriterQueue(path), WriterQueue(path)
    entered = threading.Event()
    second_in_at: list[float] = []

    def wait_for_turn() -> None:
        entered.wait()
        with second.turn():
            second_in_at.append(time.monotonic())

    waiter = threading.Thread(target=wait_for_turn)
    waiter.start()
    with first.turn():
        entered.set()
        time.sleep(HOLD_SECONDS)
        first_out_at = time.monotonic()
    waiter.join()
    first.close()
    second.close()

    assert (tmp_path / "parkflow.db-writers.lock").exists()
    assert second_in_at[0] >= first_out_at


def test_sqlite_writers_wait_on_the_lock_file_not_in_sqlite(
    sqlite_db: Database, tmp_path: Path
) -> None:
    import fcntl

    # while someone holds the turn, a writer waits for it and does not fail
    holder = open(tmp_path / "parkflow.db-writers.lock", "a+b")  # noqa: SIM115
    fcntl.flock(holder, fcntl.LOCK_EX)
    released = threading.Timer(HOLD_SECONDS, lambda: fcntl.flock(holder, fcntl.LOCK_UN))
    released.start()
    began = time.monotonic()
    with sqlite_db.write() as session:
        session.add(Park(slug="later", name="Later"))
    waited = time.monotonic() - began
    released.join()
    holder.close()

    assert waited >= HOLD_SECONDS * 0.9


def test_a_postgresql_connection_cut_while_idle_is_replaced_unnoticed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.backend != "postgresql":
        pytest.skip("only PostgreSQL connections are pinged")
    import webapp.db

    with db.read() as session:
        backend_pid = session.scalar(select(func.pg_backend_pid()))
    # the database drops the pooled connection, as a restart or a firewall would
    killer = make_engine(db.engine.url.render_as_string(hide_password=False),
                         poolclass=NullPool)
    with killer.connect() as other:
        other.execute(select(func.pg_terminate_backend(backend_pid)))
    killer.dispose()
    monkeypatch.setattr(webapp.db, "IDLE_PING_SECONDS", 0.0)

    with db.read() as session:
        assert session.scalar(select(func.pg_backend_pid())) != backend_pid

