"""Prepared statements: the same rows as SQLAlchemy writes, on both databases, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, delete, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from webapp.db import Database
from webapp.models import Enterprise, Job, Park, ProcessDefinition
from webapp.statements import ROWS_PER_INSERT, Batch, Entities, Prepared, batched, rows_of

WHEN = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
INSERT_JOB = Prepared(insert(Job.__table__))  # type: ignore[arg-type]
MOVE_JOB = Prepared(update(Job).where(Job.dedupe_key == bindparam("key"),
                                      Job.status == "pending").values(due_at=bindparam("due")))
DROP_JOB = Prepared(delete(Job).where(Job.dedupe_key == bindparam("key")))


@pytest.fixture
def park_id(db: Database) -> str:
    with db.write() as session:
        park = Park(slug="p", name="园区")
        session.add(park)
        session.flush()
        return park.id


def job(park_id: str, key: str, **extra: object) -> dict[str, object]:
    return {"park_id": park_id, "kind": "reminder", "due_at": WHEN, "instance_id": None,
            "task_id": None, "payload": {"说明": "提醒", "n": [1, 2]}, "dedupe_key": key,
            "attempts": 0, "status": "pending", "created_at": WHEN, **extra}


def test_rows_read_back_as_sqlalchemy_wrote_them(db: Database, park_id: str) -> None:
    with db.write() as session:
        INSERT_JOB.run_many(session.connection(), [job(park_id, "a"), job(park_id, "b")])
        session.execute(insert(Job), [job(park_id, "c")])
    with db.read() as session:
        rows = {row.dedupe_key: (row.due_at, row.payload, row.created_at)
                for row in session.scalars(select(Job))}
    assert set(rows) == {"a", "b", "c"}
    for key in "ab":
        # times come back aware and equal, JSON as the same structure
        assert rows[key] == rows["c"] == (WHEN, {"说明": "提醒", "n": [1, 2]}, WHEN)


def test_row_counts_constants_and_one_statement_for_many(db: Database, park_id: str) -> None:
    with db.write() as session:
        connection = session.connection()
        INSERT_JOB.run(connection, job(park_id, "a"))
        INSERT_JOB.run(connection, job(park_id, "done", status="done"))
        # the constant status == 'pending' is part of the statement
        assert MOVE_JOB.run(connection, {"key": "done", "due": WHEN}).rowcount == 0
        assert MOVE_JOB.run(connection, {"key": "a", "due": WHEN + timedelta(days=1)}
                            ).rowcount == 1
        DROP_JOB.run_many(connection, [{"key": "done"}, {"key": "nothing"}])
    with db.read() as session:
        assert [(j.dedupe_key, j.due_at) for j in session.scalars(select(Job))] == [
            ("a", WHEN + timedelta(days=1))]


def test_driver_errors_are_sqlalchemys(db: Database, park_id: str) -> None:
    with pytest.raises(IntegrityError), db.write() as session:
        INSERT_JOB.run(session.connection(), job("no-such-park", "a"))
    with pytest.raises(IntegrityError), db.write() as session:
        INSERT_JOB.run_many(session.connection(), [job(park_id, "a"), job(park_id, "a")])
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []



def test_many_rows_go_in_chunks_and_keep_their_order(db: Database, park_id: str) -> None:
    # on PostgreSQL ROWS_PER_INSERT rows share one statement: two full ones and one single row
    count = 2 * ROWS_PER_INSERT + 1
    keys = [f"k{number:03}" for number in range(count)]
    with db.write() as session, batched(session.connection()):
        INSERT_JOB.run_many(session.connection(), [
            job(park_id, key, attempts=number) for number, key in enumerate(keys)])
    with db.read() as session:
        rows = session.execute(select(Job.dedupe_key, Job.attempts, Job.payload)
                               .order_by(Job.id)).all()
    assert [(key, attempts) for key, attempts, _ in rows] == [
        (key, number) for number, key in enumerate(keys)]
    assert {tuple(payload["n"]) for *_, payload in rows} == {(1, 2)}


def test_a_taken_dedupe_key_skips_only_that_row(db: Database, park_id: str) -> None:
    from webapp.services import jobs

    with db.write() as session:
        jobs.enqueue(session, [job(park_id, "a")])
    with db.write() as session:
        # taken before, and twice in the same call: each kept once
        jobs.enqueue(session, [job(park_id, "a", attempts=1), job(park_id, "b"),
                               job(park_id, "b", attempts=2), job(park_id, None)])
    with db.read() as session:
        assert sorted(session.execute(select(Job.dedupe_key, Job.attempts)).all(),
                      key=repr) == sorted([("a", 0), ("b", 0), (None, 0)], key=repr)

def test_missing_values_are_refused_before_anything_runs(db: Database, park_id: str) -> None:
    incomplete = job(park_id, "a")
    del incomplete["created_at"]  # a column with a default: not filled in here
    with pytest.raises(ValueError, match="created_at"), db.write() as session:
        INSERT_JOB.run(session.connection(), incomplete)
    with pytest.raises(KeyError), db.write() as session:
        MOVE_JOB.run(session.connection(), {"key": "a"})
    # the columns of a many-row insert come from its first row: no other row may add one
    with pytest.raises(ValueError, match="same columns"), db.write() as session:
        INSERT_JOB.run_many(session.connection(), [
            job(park_id, "a"), job(park_id, "b", locked_by="worker-1")])
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []


def test_a_batch_lets_queries_run_between_its_statements(db: Database, park_id: str) -> None:
    with db.write() as session, batched(session.connection()) as batch:
        connection = session.connection()
        INSERT_JOB.run(connection, job(park_id, "a"))
        # an ORM query in the middle sees what the batch sent before it
        assert session.scalars(select(Job.dedupe_key)).all() == ["a"]
        moved = MOVE_JOB.run(connection, {"key": "a", "due": WHEN + timedelta(hours=1)})
        batch.expect(moved, 1, lambda: AssertionError("not moved"))
        INSERT_JOB.run(connection, job(park_id, "b"))
        # nested: the same batch
        with batched(connection) as inner:
            assert inner is batch
            INSERT_JOB.run(connection, job(park_id, "c"))
    with db.read() as session:
        assert sorted(session.scalars(select(Job.dedupe_key))) == ["a", "b", "c"]


def test_a_failed_expectation_rolls_the_transaction_back(db: Database, park_id: str) -> None:
    class Moved(Exception):
        pass

    with pytest.raises(Moved), db.write() as session, \
            batched(session.connection()) as batch:
        connection = session.connection()
        INSERT_JOB.run(connection, job(park_id, "a"))
        batch.expect(MOVE_JOB.run(connection, {"key": "zz", "due": WHEN}), 1, Moved)
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []


def test_an_error_sent_in_a_batch_surfaces_by_its_end(db: Database, park_id: str) -> None:
    with pytest.raises(IntegrityError), db.write() as session, \
            batched(session.connection()):
        INSERT_JOB.run(session.connection(), job(park_id, "a"))
        INSERT_JOB.run(session.connection(), job(park_id, "a"))
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []
    # the pooled connection is usable afterwards, outside any batch
    with db.write() as session:
        INSERT_JOB.run(session.connection(), job(park_id, "b"))
        assert session.connection().info.get("parkflow_batch") is None


def test_postgresql_batches_are_pipelined(db: Database, park_id: str) -> None:
    if db.backend != "postgresql":
        pytest.skip("only PostgreSQL's driver has a pipeline mode")
    with db.write() as session, batched(session.connection()) as batch:
        connection = session.connection()
        driver = connection.connection.driver_connection
        INSERT_JOB.run(connection, job(park_id, "a"))
        assert isinstance(batch, Batch) and driver.pgconn.pipeline_status != 0
        session.scalars(select(Job.id)).all()
        assert driver.pgconn.pipeline_status == 0
        # the answers of prepared queries end the pipeline too (one round trip for all);
        # the next write opens another
        INSERT_JOB.run(connection, job(park_id, "b"))
        (found,) = rows_of(connection, (JOBS_OF, {"park_id": park_id}))
        assert [row.dedupe_key for row in found] == ["a", "b"]
        assert driver.pgconn.pipeline_status == 0
        INSERT_JOB.run(connection, job(park_id, "c"))
        assert driver.pgconn.pipeline_status != 0
    with db.read() as session:
        assert sorted(session.scalars(select(Job.dedupe_key))) == ["a", "b", "c"]


def test_a_single_read_opens_no_transaction(db: Database, park_id: str) -> None:
    with db.single_read() as connection:
        assert connection.execute(select(Park.slug)).scalars().all() == ["p"]
        driver = connection.connection.driver_connection
        # nothing to end: no BEGIN was sent (PostgreSQL: the connection autocommits)
        assert not driver.in_transaction if db.backend == "sqlite" else driver.autocommit
    # the pooled connection is transactional again for the next writer
    with pytest.raises(IntegrityError), db.write() as session:
        INSERT_JOB.run(session.connection(), job(park_id, "a"))
        INSERT_JOB.run(session.connection(), job(park_id, "a"))
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []


JOBS_OF = Prepared(select(Job.dedupe_key, Job.due_at, Job.payload, Job.attempts)
                   .where(Job.park_id == bindparam("park_id"), Job.status == "pending")
                   .order_by(Job.dedupe_key))


def test_query_rows_convert_as_sqlalchemy_does(db: Database, park_id: str) -> None:
    with db.write() as session:
        INSERT_JOB.run_many(session.connection(), [job(park_id, "a"), job(park_id, "b"),
                                                   job(park_id, "c", status="done")])
    with db.read() as session:
        prepared = JOBS_OF.rows(session.connection(), {"park_id": park_id})
        core = session.execute(JOBS_OF.statement, {"park_id": park_id}).all()
    assert [tuple(row) for row in prepared] == [tuple(row) for row in core]
    assert [row.dedupe_key for row in prepared] == ["a", "b"]
    assert prepared[0].due_at == WHEN and prepared[0].due_at.tzinfo is not None
    assert prepared[0].payload == {"说明": "提醒", "n": [1, 2]}
    with db.read() as session:
        assert JOBS_OF.rows(session.connection(), {"park_id": "nobody"}) == []


def test_a_query_in_a_batch_sees_what_the_batch_wrote(db: Database, park_id: str) -> None:
    with db.write() as session, batched(session.connection()):
        connection = session.connection()
        INSERT_JOB.run(connection, job(park_id, "a"))
        MOVE_JOB.run(connection, {"key": "a", "due": WHEN + timedelta(hours=2)})
        (row,) = JOBS_OF.rows(connection, {"park_id": park_id})
        assert row.due_at == WHEN + timedelta(hours=2)
        INSERT_JOB.run(connection, job(park_id, "b"))
        # several queries sent before the first answer is awaited
        both, nobody = rows_of(connection, (JOBS_OF, {"park_id": park_id}),
                               (JOBS_OF, {"park_id": "nobody"}))
        assert [r.dedupe_key for r in both] == ["a", "b"] and nobody == []


# --- writes held back until the batch needs the database -----------------------------------


def _keys_seen_by_driver(connection: Connection) -> list[str]:
    """The jobs in the transaction, read on the driver's own cursor (which no batch sees)."""
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute("SELECT dedupe_key FROM jobs ORDER BY dedupe_key")
    return [key for (key,) in cursor.fetchall()]


def test_held_writes_run_in_order_at_the_batchs_end_after_before_release(
        db: Database, park_id: str) -> None:
    events: list[object] = []
    with db.write() as session, batched(session.connection()) as batch:
        connection = session.connection()
        batch.hold_writes(lambda: events.append(("before", _keys_seen_by_driver(connection))))
        INSERT_JOB.run(connection, job(park_id, "a"))
        moved = MOVE_JOB.run(connection, {"key": "a", "due": WHEN + timedelta(hours=1)})
        batch.expect(moved, 1, lambda: AssertionError("not moved"))
        with pytest.raises(RuntimeError, match="held back"):
            _ = moved.rowcount
        assert events == [] and _keys_seen_by_driver(connection) == []
    # the lock (say) was taken before any of them ran; they ran in the order given
    assert events == [("before", [])]
    with db.read() as session:
        assert [(j.dedupe_key, j.due_at) for j in session.scalars(select(Job))] == [
            ("a", WHEN + timedelta(hours=1))]


def test_a_query_or_an_orm_statement_runs_the_held_writes_first(
        db: Database, park_id: str) -> None:
    with db.write() as session, batched(session.connection()) as batch:
        connection = session.connection()
        batch.hold_writes(lambda: None)
        INSERT_JOB.run(connection, job(park_id, "a"))
        assert [row.dedupe_key for row in JOBS_OF.rows(connection, {"park_id": park_id})] == [
            "a"]
        # later writes go at once: only what came before the first query was held
        written = INSERT_JOB.run(connection, job(park_id, "b"))
        if db.backend == "postgresql":  # sent in the batch's pipeline, counted at its end
            with pytest.raises(RuntimeError, match="not finished"):
                _ = written.rowcount
        else:
            assert written.rowcount == 1 and _keys_seen_by_driver(connection) == ["a", "b"]
        batch.hold_writes(lambda: None)
        INSERT_JOB.run(connection, job(park_id, "c"))
        assert session.scalars(select(Job.dedupe_key).order_by(Job.dedupe_key)).all() == [
            "a", "b", "c"]


def test_held_writes_never_run_when_the_batch_fails_or_before_release_refuses(
        db: Database, park_id: str) -> None:
    class Refused(Exception):
        pass

    def refuse() -> None:
        raise Refused

    called: list[str] = []
    with pytest.raises(KeyError), db.write() as session, \
            batched(session.connection()) as batch:
        batch.hold_writes(lambda: called.append("before"))
        INSERT_JOB.run(session.connection(), job(park_id, "a"))
        raise KeyError("the block failed")
    assert called == []
    with pytest.raises(Refused), db.write() as session, batched(session.connection()) as batch:
        batch.hold_writes(refuse)
        INSERT_JOB.run(session.connection(), job(park_id, "b"))
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []
    # the same pooled connection writes normally afterwards
    with db.write() as session, batched(session.connection()):
        INSERT_JOB.run(session.connection(), job(park_id, "c"))
    with db.read() as session:
        assert session.scalars(select(Job.dedupe_key)).all() == ["c"]



# --- whole rows as objects of a session ----------------------------------------------------

PARK_AND_ENTERPRISE = Entities(Park, Enterprise)
PARKS = Prepared(select(*PARK_AND_ENTERPRISE.columns).select_from(Park)
                 .outerjoin(Enterprise, Enterprise.park_id == Park.id)
                 .order_by(Park.slug))


def test_rows_become_persistent_objects_as_the_orm_loads_them(db: Database,
                                                              park_id: str) -> None:
    with db.write() as session:
        session.add(Park(slug="q", name="另一个园区", settings={"scripts_enabled": False}))
        session.add(Enterprise(park_id=park_id, name="星河科技"))
    with db.write() as session:
        rows = PARKS.rows(session.connection(), {})
        (p, enterprise), (q, nobody) = (PARK_AND_ENTERPRISE.objects(session, row)
                                        for row in rows)
        loaded = session.execute(select(Park, Enterprise).outerjoin(
            Enterprise, Enterprise.park_id == Park.id).order_by(Park.slug)).all()
        # the same objects the ORM finds: the session holds them already
        assert [tuple(row) for row in loaded] == [(p, enterprise), (q, None)]
        assert nobody is None
        assert (p.slug, enterprise.name) == ("p", "星河科技")
        assert q.settings == {"scripts_enabled": False}
        assert inspect(p).persistent and not session.dirty
        # a change is flushed like any other
        q.name = "改名"
    with db.read() as session:
        assert session.scalars(select(Park.name).where(Park.slug == "q")).one() == "改名"


def test_deferred_columns_load_on_first_use(db: Database, park_id: str) -> None:
    with db.write() as session:
        session.add(ProcessDefinition(park_id=park_id, key="k", version=1, name="流程",
                                      content_hash="h", bpmn_xml="<definitions/>",
                                      forms={"f": {"type": "object"}}))
    definitions = Entities(ProcessDefinition)
    with db.read() as session:
        (row,) = Prepared(select(*definitions.columns)).rows(session.connection(), {})
        [definition] = definitions.objects(session, row)
        assert "bpmn_xml" not in definition.__dict__
        assert (definition.bpmn_xml, definition.forms) == ("<definitions/>",
                                                          {"f": {"type": "object"}})


def test_a_held_write_keeps_the_values_it_was_given(db: Database, park_id: str) -> None:
    with db.write() as session, batched(session.connection()) as batch:
        batch.hold_writes(lambda: None)
        row = job(park_id, "a")
        INSERT_JOB.run(session.connection(), row)
        # the caller goes on with its objects before the write runs
        row["dedupe_key"] = "b"
        row["payload"]["n"].append(3)  # type: ignore[index]
    with db.read() as session:
        assert [(j.dedupe_key, j.payload) for j in session.scalars(select(Job))] == [
            ("a", {"说明": "提醒", "n": [1, 2]})]
