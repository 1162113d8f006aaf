"""Engine, sessions and transactions for SQLite and PostgreSQL, and the shared column types."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from webapp import jsontext
from webapp.config import ConfigError
from webapp.statements import end_batches_before_statements

try:
    import fcntl
except ImportError:  # not on POSIX: SQLite's busy timeout alone orders the writers
    fcntl = None  # type: ignore[assignment]

from webapp.services.errors import Conflict, NotFound

if TYPE_CHECKING:
    from webapp.models import Instance

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 10_000
# execution option read by the SQLite "begin" hook: take the write lock up front
BEGIN_IMMEDIATE = "parkflow_begin_immediate"
# execution option read by the same hook: no BEGIN at all (single-statement reads)
NO_BEGIN = "parkflow_no_begin"
_writing: ContextVar[bool] = ContextVar("parkflow_writing", default=False)
# Session.info key: how a ``write(lock_later=True)`` session takes its write lock
_TAKE_WRITE_LOCK = "parkflow_take_write_lock"


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a fresh random identifier for a primary key."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC time")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: keep naive UTC text, which also sorts correctly
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# none_as_null: Python None becomes SQL NULL, not the JSON text 'null'
JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """Return a CHECK (named after the column) keeping it inside a fixed vocabulary."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    """Declarative base of every Parkflow table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), date: Date()}


def normalize_database_url(url: str | URL) -> URL:
    """Parse a database URL, accepting only SQLite and PostgreSQL (through psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"cannot parse the database URL {str(url)!r}") from exc
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigError(
        f"unsupported database URL scheme {parsed.drivername!r}; "
        "use sqlite:///path/to/file.db or postgresql://user@host/dbname"
    )


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine configured for Parkflow's transaction rules."""
    parsed = normalize_database_url(url)
    # JSON columns: a step writes a dozen of them (see webapp.jsontext)
    kwargs.setdefault("json_serializer", jsontext.dumps)
    kwargs.setdefault("json_deserializer", jsontext.loads)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        end_batches_before_statements(engine)
        return engine
    # psycopg prepares no statements of its own: the busiest ones are prepared by
    # webapp.pgpipe, and psycopg would deallocate them with its own after every rollback
    connect_args = {"connect_timeout": 10, "prepare_threshold": None,
                    **kwargs.pop("connect_args", {})}
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    _ping_when_idle(engine)
    end_batches_before_statements(engine)
    return engine


# a pooled connection unused for longer than this is pinged before it is handed out again
IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection before use, but only after it sat idle.

    A ping on every checkout (``pool_pre_ping``) is one more round trip for every
    transaction, and a busy server pays it on each request. A connection that was in use
    seconds ago is almost surely alive; one that sat idle may have been cut (a restarted
    database, a firewall's timeout) and is pinged, and replaced if it is dead.
    """
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["parkflow_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("parkflow_idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 -- any failure means: this one is gone
            # the pool throws the connection away and checks out a fresh one
            raise DisconnectionError(str(exc)) from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take BEGIN away from the sqlite3 module so that _on_begin decides its kind
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(NO_BEGIN):
            return  # each statement is its own transaction (Database.single_read)
        _on_driver(connection,
                   "BEGIN IMMEDIATE" if options.get(BEGIN_IMMEDIATE, False) else "BEGIN")


def _on_driver(connection: Connection, statement: str) -> None:
    """Run a transaction statement on the driver's connection: through SQLAlchemy it costs
    ten times as much. Driver errors come out as SQLAlchemy's, as from any statement."""
    dbapi = connection.dialect.loaded_dbapi
    try:
        connection.connection.dbapi_connection.execute(statement)  # type: ignore[union-attr]
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error,
                                  dialect=connection.dialect) from exc


class WriterQueue:
    """Writers of one SQLite file wait here, in turn, rather than in SQLite's busy handler.

    SQLite lets one writer in at a time and makes the others poll with sleeps that grow to
    100 ms, so under concurrent completions a few unlucky requests waited a quarter of a
    second for a lock that had been free for most of it. Here the threads of a process queue
    on a lock, and the processes on an exclusive ``flock`` of a file beside the database:
    the next writer is woken the moment the last one is done. A process that dies releases
    its ``flock`` with it. Where file locks are not available only the threads queue and
    SQLite's busy timeout still guards the rest.
    """

    def __init__(self, database_path: str) -> None:
        self._path = f"{database_path}-writers.lock"
        self._threads = threading.Lock()
        self._file: tuple[int, int] | None = None  # (pid, descriptor): opened after a fork

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the database's writer turn for the duration of the block."""
        if not self._threads.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise Conflict("the database is busy; try again in a moment")
        try:
            descriptor = self._descriptor()
            if descriptor is None:
                yield
                return
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self) -> int | None:
        if fcntl is None:
            return None
        if self._file is None or self._file[0] != os.getpid():
            try:
                descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return None  # a read-only folder: SQLite's own locking still applies
            self._file = (os.getpid(), descriptor)
        return self._file[1]

    def close(self) -> None:
        """Let go of the lock file (its lock is never held between turns)."""
        if self._file is not None and self._file[0] == os.getpid():
            os.close(self._file[1])
        self._file = None


class Forgetful(Protocol):
    """A cache that can drop everything it holds."""

    def clear(self) -> None: ...


# caches to clear on writes to their tables, by database (its URL), then by tables: shared by
# every Database of this process on the same database, so a change made through one is seen by
# all of them
_Watch = tuple[re.Pattern[str], "weakref.WeakSet[Any]"]
_FORGETTING: dict[str, dict[tuple[str, ...], _Watch]] = {}
_WROTE = "parkflow_wrote"  # connection info: the caches whose tables the transaction wrote to


def _watches(engine: Engine) -> dict[tuple[str, ...], _Watch]:
    return _FORGETTING.setdefault(engine.url.render_as_string(hide_password=True), {})


def _forgetting(engine: Engine, tables: tuple[str, ...]) -> weakref.WeakSet[Any]:
    watches = _watches(engine)
    found = watches.get(tables)
    if found is None:
        names = "|".join(re.escape(table) for table in tables)
        found = watches[tables] = (
            re.compile(rf'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?:{names})\b',
                       re.IGNORECASE),
            weakref.WeakSet())
    return found[1]


def _clear(caches: weakref.WeakSet[Any]) -> None:
    for cache in list(caches):
        cache.clear()


def _tell_caches_of_writes(engine: Engine) -> None:
    """Let the caches of ``Database.forget_on_writes`` know of this engine's writes."""
    watches = _watches(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(connection: Connection, _cursor: Any, statement: str,
                      *_args: Any) -> None:
        for writes, caches in list(watches.values()):
            if caches and writes.match(statement):
                wrote = connection.info.setdefault(_WROTE, [])
                if not any(known is caches for known in wrote):
                    wrote.append(caches)
                _clear(caches)

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Connection) -> None:
        for caches in connection.info.pop(_WROTE, ()):
            _clear(caches)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Connection) -> None:
        connection.info.pop(_WROTE, None)


def _writer_queue(engine: Engine) -> WriterQueue | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return WriterQueue(os.path.abspath(database))


class Database:
    """An engine and its session factory, handing out read and write transactions."""

    def __init__(self, url: str | URL, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._writers = _writer_queue(self.engine)
        _tell_caches_of_writes(self.engine)

    def forget_on_writes(self, tables: Iterable[str], cache: Forgetful) -> None:
        """Have ``cache.clear()`` called whenever this process writes to one of ``tables`` of
        this database (through any ``Database`` on it): when the statement runs, and again
        when its transaction commits.

        For caches of what those tables hold: the first call drops what the change makes
        stale, the second what another thread read back in before the change was committed.
        Every statement of SQLAlchemy's is seen, ORM and Core alike; the prepared statements
        of the busiest path (`webapp.statements`) are not, and write none of the tables a
        cache may watch. The cache is held weakly.
        """
        _forgetting(self.engine, tuple(sorted(tables))).add(cache)

    @property
    def backend(self) -> str:
        """Name the database kind: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Yield a session for reading; it can change nothing (on PostgreSQL the transaction
        is read-only as well). It is rolled back at the end."""
        with self.sessionmaker() as session:
            if self.backend == "postgresql":
                session.connection(execution_options={"postgresql_readonly": True})
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """Yield a connection for a read of one statement, run without a transaction around
        it: one statement sees one consistent state anyway, and on PostgreSQL there is no
        BEGIN and ROLLBACK to wait for (two round trips of three)."""
        with self.engine.connect() as connection:
            if self.backend == "sqlite":
                # (SQLAlchemy's isolation levels would run PRAGMAs on every return to the
                # pool: the SQLite connection already runs each statement by itself when no
                # BEGIN is issued)
                yield connection.execution_options(**{NO_BEGIN: True})
            else:
                yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def write(self, *, lock_later: bool = False) -> Iterator[Session]:
        """Yield a session in one transaction: committed at the end, rolled back on error.

        On SQLite the database's write lock is taken before anything is read, so what the
        session reads stays true until it commits. With ``lock_later`` the session first reads
        without that lock, in a transaction of its own, and takes the lock when the caller
        calls `take_write_lock`: for work that reads, computes at length (the engine) and
        then writes, so that writers wait for each other only while they write. The caller
        checks, under the lock, that what it read has not changed since. PostgreSQL locks
        rows, not the database, and ignores ``lock_later``.
        """
        if _writing.get():
            # a second writer in the same flow would wait for the first one forever on SQLite
            raise RuntimeError("db.write() is already open here; pass its session down instead")
        token = _writing.set(True)
        try:
            with ExitStack() as held, self.sessionmaker() as session:
                def lock() -> None:
                    reading = session.get_transaction()
                    if reading is not None:
                        # the reads end here, and the same transaction of the session goes
                        # on as the database's write transaction
                        _on_driver(session.connection(), "COMMIT")
                    if self._writers is not None:
                        held.enter_context(self._writers.turn())
                    if reading is not None:
                        _on_driver(session.connection(), "BEGIN IMMEDIATE")
                    else:
                        # SQLite takes its write lock with this BEGIN, before anything is read
                        session.connection(execution_options={BEGIN_IMMEDIATE: True})

                if lock_later and self.backend == "sqlite":
                    session.info[_TAKE_WRITE_LOCK] = lock
                else:
                    lock()
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            _writing.reset(token)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()


def take_write_lock(session: Session) -> bool:
    """Take the write lock a ``db.write(lock_later=True)`` session put off; True when it did.

    True means the reads so far ran before the lock (their transaction is over): whatever
    they found may have changed since, and the caller must check before writing. False
    means there was nothing to take (PostgreSQL, or the lock was held from the start), and
    the rows read with FOR UPDATE are locked already.
    """
    lock = session.info.pop(_TAKE_WRITE_LOCK, None)
    if lock is None:
        return False
    if session.dirty or session.new or session.deleted:
        raise RuntimeError("changes made before take_write_lock() would be committed unlocked")
    lock()
    return True


def lock_instance(
    session: Session, instance_id: str, *, expected_version: int | None = None
) -> Instance:
    """Load an instance for changing it, holding its row lock until the transaction ends.

    PostgreSQL locks the row (SELECT ... FOR UPDATE); SQLite needs nothing more because
    ``Database.write`` already holds the database's write lock. With ``expected_version``,
    raise Conflict when someone else changed the instance since the caller looked at it.
    """
    from webapp.models import Instance  # the models import this module

    stmt = (
        select(Instance)
        .where(Instance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    instance = session.scalars(stmt).one_or_none()
    if instance is None:
        raise NotFound(f"application {instance_id!r}")
    if expected_version is not None and instance.version != expected_version:
        raise Conflict(f"application {instance.reference} was changed by someone else; reload it")
    return instance
