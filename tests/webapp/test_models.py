"""The schema, its migration, the column types and the transaction helpers."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from webapp import jsontext
from webapp.db import Base, Database, lock_instance, make_engine, normalize_database_url
from webapp.migrate import alembic_config, current_revision, head_revision, upgrade
from webapp.models import (
    AppendOnlyError,
    AuditEvent,
    Enterprise,
    Instance,
    Membership,
    Park,
    User,
    allocate_reference,
)
from webapp.services import Conflict, NotFound
from webapp.services.audit import record

# --- migrations -------------------------------------------------------------------------

MIGRATIONS = Path(__file__).resolve().parents[2] / "webapp" / "migrations" / "versions"


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migration_is_at_head_and_downgrades_cleanly(database_url: str) -> None:
    upgrade(database_url)
    head = head_revision()
    assert current_revision(database_url) == head
    assert head == sorted(p.name for p in MIGRATIONS.glob("0*.py"))[-1].split("_")[0]

    command.downgrade(alembic_config(database_url), "base")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()

    upgrade(database_url)
    assert current_revision(database_url) == head


# --- column types -----------------------------------------------------------------------


def test_timestamps_come_back_aware_in_utc(db: Database, instance_id: str) -> None:
    shanghai = timezone(timedelta(hours=8))
    promised = datetime(2026, 10, 9, 17, 30, tzinfo=shanghai)
    with db.write() as session:
        session.get_one(Instance, instance_id).promised_at = promised

    with db.read() as session:
        stored = session.get_one(Instance, instance_id).promised_at
    assert stored == promised
    assert stored is not None and stored.tzinfo == UTC
    assert stored.hour == 9


def test_naive_timestamps_are_refused(db: Database, instance_id: str) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.write() as session:
        session.get_one(Instance, instance_id).promised_at = datetime(2026, 10, 9, 17, 30)
        session.flush()


def test_json_columns_round_trip_and_none_is_sql_null(db: Database, instance_id: str) -> None:
    summary = {"amount": 120000.5, "名称": "补贴", "items": [1, None, True]}
    with db.write() as session:
        instance = session.get_one(Instance, instance_id)
        instance.data_summary = summary
        instance.error = None

    with db.read() as session:
        assert session.get_one(Instance, instance_id).data_summary == summary
        query = text("SELECT COUNT(*) FROM instances WHERE error IS NULL AND id = :id")
        assert session.scalar(query, {"id": instance_id}) == 1


@pytest.mark.parametrize("value", [
    {"big": 2**70, "negative": -(2**65), "名称": "补贴"},  # beyond orjson's 64 bits
    {1: "int key", "nested": {"list": [1.5, "二", None, False]}},
    [],
])
def test_json_columns_keep_what_the_standard_library_kept(
        db: Database, instance_id: str, value: object) -> None:
    with db.write() as session:
        session.get_one(Instance, instance_id).data_summary = value
    with db.read() as session:
        stored = session.get_one(Instance, instance_id).data_summary
    assert stored == json.loads(json.dumps(value))
    assert jsontext.loads(jsontext.dumps(value)) == stored


def test_json_column_text_is_utf8_and_reads_older_rows() -> None:
    assert jsontext.dumps({"名称": "补贴"}) == '{"名称":"补贴"}'
    # rows the standard library wrote: ASCII escapes, and NaN which orjson refuses
    assert math.isnan(jsontext.loads('{"\\u540d": NaN}')["名"])
    assert jsontext.loads(b'{"a": 12345678901234567890}') == {"a": 12345678901234567890}
    with pytest.raises(TypeError):
        jsontext.dumps({"when": datetime(2026, 1, 1, tzinfo=UTC)})  # refused, as before


def test_membership_of_an_enterprise_user_needs_the_enterprise(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as session:
        park = Park(slug="demo", name="Demo", settings={})
        user = User(username="ann", password_hash="x", display_name="Ann")
        session.add_all([park, user])
        session.flush()
        session.add(Membership(user_id=user.id, park_id=park.id, role="enterprise"))


def test_references_are_unique_per_park(db: Database, instance_id: str) -> None:
    with pytest.raises(IntegrityError), db.write() as session:
        original = session.get_one(Instance, instance_id)
        session.add(
            Instance(
                park_id=original.park_id,
                definition_id=original.definition_id,
                reference=original.reference,
                state=b"{}",
            )
        )


def test_references_count_per_park_and_year(db: Database) -> None:
    with db.write() as session:
        demo = Park(slug="demo", name="Demo", settings={})
        other = Park(slug="nq", name="North", settings={"reference_prefix": "NQ"})
        session.add_all([demo, other])
        session.flush()
        taken = [
            allocate_reference(session, demo, 2026),
            allocate_reference(session, demo, 2026),
            allocate_reference(session, other, 2026),
            allocate_reference(session, demo, 2027),
        ]
    assert taken == ["DEMO-2026-000001", "DEMO-2026-000002", "NQ-2026-000001", "DEMO-2027-000001"]


# --- the audit log is append-only -------------------------------------------------------


@pytest.fixture
def audit_event_id(db: Database) -> int:
    with db.write() as session:
        park = Park(slug="demo", name="Demo", settings={})
        session.add(park)
        session.flush()
        event = record(
            session, park_id=park.id, actor="ann", action="park.created", details={"slug": "demo"}
        )
        session.flush()
        return event.id


def test_audit_events_cannot_be_changed_through_the_orm(db: Database, audit_event_id: int) -> None:
    with pytest.raises(AppendOnlyError), db.write() as session:
        session.get_one(AuditEvent, audit_event_id).action = "park.deleted"
    with pytest.raises(AppendOnlyError), db.write() as session:
        session.delete(session.get_one(AuditEvent, audit_event_id))
    with pytest.raises(AppendOnlyError), db.write() as session:
        session.execute(update(AuditEvent).values(actor="mallory"))

    with db.read() as session:
        event = session.get_one(AuditEvent, audit_event_id)
        assert (event.action, event.actor) == ("park.created", "ann")


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"]
)
def test_audit_events_cannot_be_changed_in_sql(
    db: Database, audit_event_id: int, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.exec_driver_sql(statement)

    with db.read() as session:
        assert session.get_one(AuditEvent, audit_event_id).actor == "ann"


# --- transactions and locking -----------------------------------------------------------


def test_write_commits_at_the_end(db: Database) -> None:
    with db.write() as session:
        session.add(Park(slug="demo", name="Demo", settings={}))
    with db.read() as session:
        assert session.scalars(select(Park.slug)).all() == ["demo"]


def test_write_rolls_back_on_any_error(db: Database) -> None:
    with pytest.raises(KeyError), db.write() as session:
        session.add(Park(slug="demo", name="Demo", settings={}))
        session.flush()
        raise KeyError("boom")
    with db.read() as session:
        assert session.scalars(select(Park)).all() == []


def test_read_keeps_nothing(db: Database) -> None:
    if db.backend == "postgresql":
        # a read-only transaction, ended by a commit (see Database.read): changes are refused
        with pytest.raises(DBAPIError, match="read-only transaction"), db.read() as session:
            session.add(Park(slug="demo", name="Demo", settings={}))
            session.flush()
    else:
        with db.read() as session:
            session.add(Park(slug="demo", name="Demo", settings={}))
            session.flush()
    with db.read() as session:
        assert session.scalars(select(Park)).all() == []


def test_nested_writes_are_refused(db: Database) -> None:
    with db.write(), pytest.raises(RuntimeError, match="already open"), db.write():
        pass


def test_stale_instance_copies_cannot_be_saved(db: Database, instance_id: str) -> None:
    stale_session = db.sessionmaker()
    stale = stale_session.get_one(Instance, instance_id)
    stale_session.commit()  # keeps the loaded copy (expire_on_commit=False)

    with db.write() as session:
        session.get_one(Instance, instance_id).status = "cancelled"

    stale.status = "completed"
    with pytest.raises(StaleDataError):
        stale_session.commit()
    stale_session.close()
    with db.read() as session:
        instance = session.get_one(Instance, instance_id)
        assert (instance.status, instance.version) == ("cancelled", 2)


def test_lock_instance_checks_existence_and_version(db: Database, instance_id: str) -> None:
    with db.write() as session:
        assert lock_instance(session, instance_id, expected_version=1).id == instance_id
    with pytest.raises(NotFound, match="does not exist"), db.write() as session:
        lock_instance(session, "no-such-id")
    with pytest.raises(Conflict, match="changed by someone else"), db.write() as session:
        lock_instance(session, instance_id, expected_version=7)


# --- engines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg"),
        ("postgres://u@h/d", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
)
def test_database_urls_are_normalized(url: str, driver: str) -> None:
    assert normalize_database_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@h/d", "postgresql+psycopg2://u@h/d", "not a url"])
def test_other_databases_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="database URL"):
        normalize_database_url(url)


def test_sqlite_connections_are_tuned(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 10_000
        assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
    database.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    database = Database(url)
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(Enterprise(park_id="no-such-park", name="Acme"))
    database.dispose()
