"""Statements through libpq's pipeline (PostgreSQL): prepared once per connection, whatever
rolls back; errors, read-only transactions and large batches as with psycopg's cursors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    bindparam,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from webapp import pgpipe
from webapp.db import Database
from webapp.models import Job, Park
from webapp.statements import Prepared, batched

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
INSERT_PARK = Prepared(insert(Park.__table__))  # type: ignore[arg-type]
INSERT_JOB = Prepared(insert(Job.__table__))  # type: ignore[arg-type]
PARK_NAMED = Prepared(select(Park.id, Park.name, Park.settings).where(
    Park.slug == bindparam("slug")))


def test_placeholders_become_numbered_parameters() -> None:
    sql, names = pgpipe.positional(
        "SELECT %(a)s::INTEGER, %(b)s, %(a)s, 'x %% y' WHERE n LIKE 'a%%'")
    assert sql == b"SELECT $1::INTEGER, $2, $1, 'x % y' WHERE n LIKE 'a%'"
    assert names == ("a", "b")


@pytest.fixture
def pg(db: Database) -> Iterator[Database]:
    """The test database on one pooled connection, so that every block below shares it."""
    if db.backend != "postgresql":
        pytest.skip("the libpq pipeline is PostgreSQL's")
    one = Database(str(db.engine.url.render_as_string(hide_password=False)), pool_size=1,
                   max_overflow=0)
    yield one
    one.dispose()


def park(slug: str, **extra: object) -> dict[str, object]:
    return {"id": f"id-{slug}", "slug": slug, "name": "星河产业园", "settings": {"时限": 3},
            "timezone": "Asia/Shanghai", "calendar_revision": 0, "created_at": WHEN, **extra}


def prepared_here(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(text(
            "SELECT name FROM pg_prepared_statements ORDER BY name")))


def test_psycopg_prepares_nothing_on_the_engines_connections(pg: Database) -> None:
    with pg.read() as session:
        driver = session.connection().connection.driver_connection
        assert pgpipe.usable(driver) and driver.prepare_threshold is None


def test_a_statement_is_prepared_once_per_connection_whatever_rolls_back(
        pg: Database) -> None:
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("a"))
    names = prepared_here(pg)
    assert names and all(name.startswith("pf_") for name in names)
    # a rollback after an error, an explicit one, reads (rolled back) and ORM queries
    with pytest.raises(IntegrityError), pg.write() as session:
        INSERT_PARK.run(session.connection(), park("a"))
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("b"))
        session.rollback()
    for _ in range(6):
        with pg.read() as session:
            assert PARK_NAMED.rows(session.connection(), {"slug": "a"})[0].name == "星河产业园"
            session.scalars(select(Park)).all()
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("c"))
    # the insert kept its name; the query has one of its own; nothing else was prepared
    now = prepared_here(pg)
    assert set(names) <= set(now) and len(now) == len(names) + 1
    with pg.read() as session:
        assert sorted(session.scalars(select(Park.slug))) == ["a", "c"]


def test_what_a_failed_pipeline_did_not_prepare_is_prepared_next_time(pg: Database) -> None:
    first_seen = Prepared(select(Park.slug, literal("新").label("mark")).where(
        Park.slug == bindparam("slug")))
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("a"))
    with pytest.raises(IntegrityError), pg.write() as session, \
            batched(session.connection()) as batch:
        connection = session.connection()
        INSERT_PARK.run(connection, park("a"))  # fails in the server...
        first_seen.run(connection, {"slug": "a"})  # ...so this is skipped, not prepared
        batch._wait()
    with pg.read() as session:
        assert [tuple(row) for row in first_seen.rows(session.connection(), {"slug": "a"})] == [
            ("a", "新")]


def test_a_statement_opens_the_transaction_as_psycopg_would(pg: Database) -> None:
    with pg.write() as session:
        connection = session.connection()
        driver = connection.connection.driver_connection
        assert driver.info.transaction_status.name == "IDLE"
        INSERT_PARK.run(connection, park("a"))
        assert driver.info.transaction_status.name == "INTRANS"
        session.rollback()
    with pg.read() as session:
        assert PARK_NAMED.rows(session.connection(), {"slug": "a"}) == []
    # a read's transaction is read-only, from its first statement
    with pytest.raises(DBAPIError, match="read-only transaction"), pg.read() as session:
        INSERT_PARK.run(session.connection(), park("b"))


def test_an_unadaptable_value_fails_cleanly_and_the_connection_goes_on(pg: Database) -> None:
    with pytest.raises(DBAPIError, match="cannot adapt"), pg.write() as session, \
            batched(session.connection()):
        connection = session.connection()
        INSERT_PARK.run(connection, park("a"))
        INSERT_PARK.run(connection, park("b", name=object()))
    with pytest.raises(DBAPIError, match="cannot adapt"), pg.write() as session, \
            batched(session.connection()) as batch:
        batch.hold_writes(lambda: None)  # held writes are turned into bytes when made
        INSERT_PARK.run(session.connection(), park("c", name=object()))
    with pytest.raises(DBAPIError, match="cannot adapt"), pg.write() as session:
        INSERT_PARK.run(session.connection(), park("c", name=object()))
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("d"))
    with pg.read() as session:
        assert sorted(session.scalars(select(Park.slug))) == ["d"]


def test_a_batch_larger_than_the_sockets_buffers(pg: Database) -> None:
    """Megabytes each way: the pipeline reads answers while it still sends."""
    payload = {"正文": "长" * 20_000}
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("a"))
    with pg.write() as session, batched(session.connection()) as batch:
        connection = session.connection()
        rows = [{"park_id": "id-a", "kind": "reminder", "due_at": WHEN, "instance_id": None,
                 "task_id": None, "payload": payload, "dedupe_key": f"k{n}", "attempts": 0,
                 "status": "pending", "created_at": WHEN} for n in range(200)]
        for row in rows:
            INSERT_JOB.run(connection, row)
        everything = Prepared(select(Job.dedupe_key, Job.payload).order_by(Job.dedupe_key))
        found = everything.rows(connection, {})
        batch._wait()
    assert len(found) == 200 and all(row.payload == payload for row in found)


BLOBS = Table("blobs", MetaData(), Column("id", Integer, primary_key=True),
              Column("data", LargeBinary))


def test_bytes_go_and_come_back_whole(pg: Database) -> None:
    """bytea goes in binary: every byte value, NUL included."""
    data = bytes(range(256)) * 40
    with pg.write() as session:
        session.execute(text("CREATE TEMPORARY TABLE blobs (id integer PRIMARY KEY, data bytea)"))
    write = Prepared(insert(BLOBS))
    read = Prepared(select(BLOBS.c.data).where(BLOBS.c.id == bindparam("id")))
    with pg.write() as session:
        assert write.run(session.connection(), {"id": 1, "data": data}).rowcount == 1
        write.run_many(session.connection(), [{"id": 2, "data": b""}, {"id": 3, "data": None}])
    with pg.read() as session:
        assert [row.data for row in read.rows(session.connection(), {"id": 1})] == [data]
        assert session.execute(select(BLOBS.c.data).order_by(BLOBS.c.id)).scalars().all() == [
            data, b"", None]


def test_statements_deallocated_behind_its_back_are_prepared_again(pg: Database) -> None:
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("a"))
    with pg.write() as session:
        session.execute(text("DEALLOCATE ALL"))
    # the transaction that finds them gone fails; the next one prepares them again
    with pytest.raises(DBAPIError, match="does not exist"), pg.write() as session:
        INSERT_PARK.run(session.connection(), park("b"))
    with pg.write() as session:
        INSERT_PARK.run(session.connection(), park("c"))
    with pg.read() as session:
        assert sorted(session.scalars(select(Park.slug))) == ["a", "c"]
