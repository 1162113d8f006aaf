"""The statements of the busiest path, compiled once and run on the driver itself.

Every task completion writes the same handful of rows: the instance, the closed and opened
tasks, step history, jobs and an audit event. Through SQLAlchemy each statement costs about
three times what the database itself spends on it (parameter handling, execution context,
events and result set-up are rebuilt for every call). A :class:`Prepared` statement is still
written as SQLAlchemy Core and compiled by SQLAlchemy, once per dialect and set of columns,
with SQLAlchemy's own type conversions for its parameters; only the execution goes straight
to the driver, inside the session's transaction: on PostgreSQL through libpq's pipeline as a
statement prepared once per connection (`webapp.pgpipe`), elsewhere on the driver's cursor.

Driver errors come out as SQLAlchemy's exceptions (IntegrityError, OperationalError, ...),
exactly as from ``session.execute``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Engine, bindparam, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from webapp import pgpipe

Processor = Callable[[Any], Any] | None
_GIVEN = object()  # marks a parameter the caller gives (not a constant of the statement)
# the most rows one multi-row INSERT carries (PostgreSQL; more go in further statements)
ROWS_PER_INSERT = 20


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # (name, conversion, constant or _GIVEN), in the order the driver wants them
    binds: tuple[tuple[str, Processor, Any], ...]
    # the names, for drivers taking parameters by name (psycopg); None for positional ones
    names: tuple[str, ...] | None
    # of a query: a row class named after its columns, and each column's conversion
    row: type[tuple[Any, ...]] | None = None
    results: tuple[Processor, ...] = ()
    # for libpq itself (PostgreSQL, see webapp.pgpipe): the SQL with $n parameters, and the
    # binds in their order
    libpq_sql: bytes | None = None
    libpq_binds: tuple[tuple[str, Processor, Any], ...] = ()

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        converted = _converted(self.binds, values)
        if self.names is None:
            return converted
        return dict(zip(self.names, converted, strict=True))

    def libpq_parameters(self, values: Mapping[str, Any]) -> list[Any]:
        return _converted(self.libpq_binds, values)


def _converted(binds: tuple[tuple[str, Processor, Any], ...],
               values: Mapping[str, Any]) -> list[Any]:
    return [constant if constant is not _GIVEN
            else values[name] if convert is None else convert(values[name])
            for name, convert, constant in binds]


class Prepared:
    """A Core statement compiled once per dialect (and per set of inserted columns).

    For an INSERT of a whole table, the columns come from the keys of the rows given, as
    with ``connection.execute(insert(table), rows)``; every row of one call has the same keys,
    and columns with Python-side defaults must be given (no defaults are filled in here).
    Parameters named in the statement (``bindparam``) must all be given; values written into
    it (``Job.status == "pending"``) are constants. Expanding (IN) parameters are not
    supported.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._is_insert = bool(getattr(statement, "is_insert", False))
        # by (dialect, inserted columns, rows in one statement)
        self._compiled: dict[tuple[str, tuple[str, ...] | None, int], _Compiled] = {}

    def run(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Execute once; what tells its ``rowcount`` (in a batch, known only after the
        batch)."""
        compiled = self._for(connection.dialect, values)
        return _execute(connection, compiled, values, many=False)

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once for each of ``rows`` (all with the same keys), in one driver call."""
        if not rows:
            return
        if len(rows) == 1:
            self.run(connection, rows[0])
            return
        compiled = self._for(connection.dialect, rows[0])
        if self._is_insert and any(row.keys() != rows[0].keys() for row in rows):
            # the columns come from the first row: another row's extra value would be lost
            raise ValueError("every row of one insert must name the same columns")
        if self._is_insert and connection.dialect.name == "postgresql":
            # one statement of several rows: PostgreSQL runs its executor (and the driver its
            # Python) once per statement, not once per row
            for start in range(0, len(rows), ROWS_PER_INSERT):
                chunk = rows[start:start + ROWS_PER_INSERT]
                if len(chunk) == 1:
                    self.run(connection, chunk[0])
                    continue
                several = self._for_rows(connection.dialect, tuple(chunk[0]), len(chunk))
                _execute(connection, several, {
                    f"r{number}_{key}": value for number, row in enumerate(chunk)
                    for key, value in row.items()}, many=False)
            return
        _execute(connection, compiled, rows, many=True)

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Run a query; its rows as named tuples (``row.name`` or by position), each value
        converted as SQLAlchemy would (times aware, JSON decoded, ...)."""
        (found,) = rows_of(connection, (self, values))
        return found

    def _sent(self, connection: Connection, values: Mapping[str, Any]) -> Callable[[], list[Any]]:
        """Send a query; a function that waits for its rows."""
        compiled = self._for(connection.dialect, values)
        assert compiled.row is not None, "rows() is for queries"
        cursor = _execute(connection, compiled, values, many=False, query=True)

        def fetch() -> list[Any]:
            try:
                found = (pgpipe.rows(_driver(connection), cursor)
                         if isinstance(cursor, pgpipe.Sent) else cursor.fetchall())
            except connection.dialect.loaded_dbapi.Error as exc:
                raise _wrapped(connection, compiled.sql, None, exc) from exc
            make, results = compiled.row._make, compiled.results  # type: ignore[union-attr]
            if not any(results):
                return [make(row) for row in found]
            return [make([value if convert is None or value is None else convert(value)
                          for convert, value in zip(results, row, strict=True)])
                    for row in found]

        return fetch

    def _for(self, dialect: Dialect, values: Mapping[str, Any]) -> _Compiled:
        columns = tuple(values) if self._is_insert else None
        key = (dialect.name, columns, 1)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(self.statement, dialect, columns)
        return found

    def _for_rows(self, dialect: Dialect, columns: tuple[str, ...], count: int) -> _Compiled:
        """The insert of ``count`` rows in one statement; row n's values are named
        ``r<n>_<column>``."""
        key = (dialect.name, columns, count)
        found = self._compiled.get(key)
        if found is None:
            table = self.statement.table  # type: ignore[attr-defined]
            statement = self.statement.values([  # type: ignore[attr-defined]
                {column: bindparam(f"r{number}_{column}", type_=table.c[column].type)
                 for column in columns}
                for number in range(count)])
            found = self._compiled[key] = self._compile(statement, dialect, None)
        return found

    @staticmethod
    def _compile(statement: ClauseElement, dialect: Dialect,
                 columns: tuple[str, ...] | None) -> _Compiled:
        compiled = statement.compile(
            dialect=dialect, column_keys=list(columns) if columns is not None else None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            raise ValueError(f"give values for the columns with defaults: {missing}")
        by_name = compiled.binds  # rendered name -> bindparam
        names = compiled.positiontup if compiled.positional else list(by_name)
        if any(bind.expanding for bind in by_name.values()):
            raise ValueError("expanding (IN) parameters are not supported here")
        binds = []
        for name in names or ():
            bind = by_name[name]
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required or bind.callable is not None:
                binds.append((name, convert, _GIVEN))
            else:  # a value written into the statement, e.g. ``status == "pending"``
                binds.append((name, None, bind.value if convert is None else convert(bind.value)))
        row: type[tuple[Any, ...]] | None = None
        results: tuple[Processor, ...] = ()
        if getattr(statement, "is_select", False):
            selected = list(statement.selected_columns)  # type: ignore[attr-defined]
            keys = [column.key for column in selected]
            row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]  # noqa: PYI024
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in selected)
        libpq_sql: bytes | None = None
        libpq_binds: tuple[tuple[str, Processor, Any], ...] = ()
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            libpq_sql, order = pgpipe.positional(compiled.string)
            by_bind = {bind[0]: bind for bind in binds}
            libpq_binds = tuple(by_bind[name] for name in order)
        return _Compiled(sql=compiled.string, binds=tuple(binds),
                         names=None if compiled.positional else tuple(names or ()),
                         row=row, results=results, libpq_sql=libpq_sql,
                         libpq_binds=libpq_binds)



class Entities:
    """Whole rows of mapped classes from one prepared query, as objects of a session.

    ``columns`` are what an ORM query loads of each class (deferred columns left out), for
    building the query; :meth:`objects` turns a row of it into persistent objects, as if the
    ORM had loaded them, without the ORM's loading machinery that is set up anew for every
    query it runs. A class whose primary key comes back NULL (an outer join that found
    nothing) gives None.
    """

    def __init__(self, *models: type[Any]) -> None:
        self._models = []
        columns = []
        for model in models:
            props = [prop for prop in model.__mapper__.column_attrs if not prop.deferred]
            keys = tuple(prop.key for prop in props)
            primary = model.__mapper__.primary_key[0]
            first_key = next(prop.key for prop in props if prop.columns[0] is primary)
            self._models.append((model, keys, keys.index(first_key)))
            columns += [prop.columns[0] for prop in props]
        self.columns: tuple[Any, ...] = tuple(columns)

    def objects(self, session: Session, row: Sequence[Any]) -> list[Any]:
        """The objects of one row of the query, in the order of the classes given."""
        found = []
        start = 0
        for model, keys, primary in self._models:
            values = row[start:start + len(keys)]
            start += len(keys)
            found.append(None if values[primary] is None
                         else _persistent(session, model, keys, values))
        return found


def _persistent(session: Session, model: type[Any], keys: tuple[str, ...],
                values: Sequence[Any]) -> Any:
    """The row as a persistent object of ``session`` (the one it holds already, if any)."""
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(zip(keys, values, strict=True))
    make_transient_to_detached(obj)  # the values count as loaded, the rest as not yet
    held = session.identity_map.get(instance_state(obj).key)
    if held is not None:
        return held
    session.add(obj)
    return obj

def rows_of(connection: Connection,
            *queries: tuple[Prepared, Mapping[str, Any]]) -> list[list[Any]]:
    """The rows of several queries (see :meth:`Prepared.rows`), all sent before the first
    answer is awaited: in a PostgreSQL batch, one round trip for them and the writes before.

    That round trip also ends the batch's pipeline (a later statement opens another): asking
    for the answers inside it would cost one round trip, and ending it afterwards a second."""
    with batched(connection) as batch:
        waiting = [query._sent(connection, values) for query, values in queries]
        batch._wait()
    return [fetch() for fetch in waiting]


def _execute(connection: Connection, compiled: _Compiled, values: Any, *, many: bool,
             query: bool = False) -> Any:
    """Run inside the connection's batch if one is open, else at once; what tells the row
    count: the driver's cursor, a statement of a pipeline (`pgpipe.Sent`), or for a write the
    batch holds back, a stand-in whose ``rowcount`` is known once it ran. ``values`` are a
    sequence of rows with ``many``."""
    batch = connection.info.get(_BATCH)
    if batch is not None:
        if batch._held is not None:
            if not query:
                # converted now: what the caller's values hold later does not change them
                return batch._hold(compiled, batch._as_sent(compiled, values, many), many)
            batch.release()
        pipe = batch._pipe()
        if pipe is not None:
            return _send(connection, pipe, compiled,
                         _parameters(compiled, values, many, libpq=True), many)
    elif compiled.libpq_sql is not None and pgpipe.usable(_driver(connection)):
        # a batch of its own: one round trip, the statement prepared first if need be
        with batched(connection):
            return _execute(connection, compiled, values, many=many, query=query)
    return _run(connection, compiled, _parameters(compiled, values, many, libpq=False), many)


def _parameters(compiled: _Compiled, values: Any, many: bool, *, libpq: bool) -> Any:
    """The values converted for the driver: for libpq's numbered parameters or the cursor's
    named ones; a list of them with ``many``."""
    convert = compiled.libpq_parameters if libpq else compiled.parameters
    return [convert(row) for row in values] if many else convert(values)


def _run(connection: Connection, compiled: _Compiled, parameters: Any, many: bool) -> Any:
    """Run on the driver's cursor; the cursor."""
    cursor = connection.connection.cursor()
    try:
        if many:
            cursor.executemany(compiled.sql, parameters)
        else:
            cursor.execute(compiled.sql, parameters)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(connection, compiled.sql, parameters, exc) from exc
    return cursor


def _send(connection: Connection, pipe: pgpipe.Pipe, compiled: _Compiled, parameters: Any,
          many: bool) -> Any:
    """Send into a libpq pipeline; what tells the row count once it has finished."""
    assert compiled.libpq_sql is not None
    try:
        if many:
            return _Several([pipe.send(compiled.libpq_sql, row) for row in parameters])
        return pipe.send(compiled.libpq_sql, parameters)
    except connection.dialect.loaded_dbapi.Error as exc:  # a value psycopg cannot adapt
        raise _wrapped(connection, compiled.sql, parameters, exc) from exc


class _Several:
    """The statements of one ``run_many`` in a pipeline: their row counts added up, as
    ``executemany`` gives."""

    __slots__ = ("sent",)

    def __init__(self, sent: list[pgpipe.Sent]) -> None:
        self.sent = sent

    @property
    def rowcount(self) -> int:
        return sum(one.rowcount for one in self.sent)


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _wrapped(connection: Connection, sql: str, parameters: Any, exc: Exception) -> DBAPIError:
    return DBAPIError.instance(sql, parameters, exc, connection.dialect.loaded_dbapi.Error,
                               dialect=connection.dialect)


_BATCH = "parkflow_batch"  # key in the pooled connection's info: the batch open on it


class Batch:
    """Statements sent together where the driver can.

    On PostgreSQL the :class:`Prepared` statements of a batch go out in one libpq pipeline
    (`webapp.pgpipe`): sent without waiting for each answer, one round trip for all of them
    instead of one each.
    Any other statement (SQLAlchemy's own, e.g. a query of the ORM) first ends the pipeline
    and waits for the answers so far, then runs as usual; the next prepared statement starts
    a new one. Row counts are therefore known only when the batch ends, and :meth:`expect`
    checks them then. On SQLite statements run one by one as always; the checks wait for the
    end all the same.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._checks: list[tuple[Any, int, Callable[[], Exception]]] = []
        # writes held back until the batch first needs the database (see hold_writes)
        self._held: list[tuple[_Compiled, Any, bool, _Later]] | None = None
        self._before_release: Callable[[], None] = _nothing
        self._driver = _driver(connection)
        self._pipelines = connection.dialect.name == "postgresql" and pgpipe.usable(self._driver)
        self._open: pgpipe.Pipe | None = None  # the pipeline while one is open

    def expect(self, cursor: Any, rowcount: int, error: Callable[[], Exception]) -> None:
        """At the end of the batch, raise ``error()`` unless ``cursor`` changed ``rowcount``
        rows."""
        self._checks.append((cursor, rowcount, error))

    def hold_writes(self, before_release: Callable[[], None]) -> None:
        """Hold the batch's prepared writes back from here on, to run in the order given
        when the batch first needs the database: at a query, at a statement of SQLAlchemy's
        own, at :meth:`release` or at the batch's end, whichever comes first.
        ``before_release()`` runs just before them: it may take a lock and check that what the
        writes were computed from still holds (raising throws them away).

        So a step's rows can be worked out while nothing is locked, and the lock is held only
        while they are written. If the batch ends with an error the held writes never run.
        """
        self._held, self._before_release = [], before_release

    def release(self) -> None:
        """Run the held writes now (after ``before_release``); nothing if none are held."""
        held, self._held = self._held, None
        if held is None:
            return
        before, self._before_release = self._before_release, _nothing
        before()
        pipe = self._pipe()
        for compiled, parameters, many, later in held:
            later.cursor = (
                _send(self.connection, pipe, compiled, parameters, many) if pipe is not None
                else _run(self.connection, compiled, parameters, many))

    def _hold(self, compiled: _Compiled, parameters: Any, many: bool) -> _Later:
        assert self._held is not None
        later = _Later()
        self._held.append((compiled, parameters, many, later))
        return later

    def _as_sent(self, compiled: _Compiled, values: Any, many: bool) -> Any:
        """The parameters of a write to hold back, as they will go to the database."""
        parameters = _parameters(compiled, values, many, libpq=self._pipelines)
        if not self._pipelines:
            return parameters
        try:
            if many:
                return [pgpipe.dumped(self._driver, row) for row in parameters]
            return pgpipe.dumped(self._driver, parameters)
        except self.connection.dialect.loaded_dbapi.Error as exc:  # a value it cannot adapt
            raise _wrapped(self.connection, compiled.sql, parameters, exc) from exc

    def _pipe(self) -> pgpipe.Pipe | None:
        """The open pipeline, opened if need be; None where statements run one by one."""
        if self._pipelines and self._open is None:
            try:
                self._open = pgpipe.Pipe(self._driver)
            except self.connection.dialect.loaded_dbapi.Error as exc:
                raise _wrapped(self.connection, "(batch)", None, exc) from exc
        return self._open

    def _wait(self, failing: BaseException | None = None) -> None:
        """Run the writes held back (unless the batch is ``failing``: they are dropped), then
        end the open pipeline, if any: wait for every answer (an error of a statement sent
        earlier surfaces here)."""
        if failing is None:
            self.release()
        else:
            self._held = None  # the writes held back never run
        pipe, self._open = self._open, None
        if pipe is None:
            return
        if failing is not None:
            pipe.abandon()
            return
        try:
            pipe.finish()
        except self.connection.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(self.connection, "(batch)", None, exc) from exc

    def _verify(self) -> None:
        for cursor, rowcount, error in self._checks:
            if cursor.rowcount != rowcount:
                raise error()


def _nothing() -> None:
    pass


class _Later:
    """What :meth:`Prepared.run` returns for a write a batch holds back: its row count is
    known once the batch has run it (a batch checks its expectations at its end)."""

    __slots__ = ("cursor",)

    def __init__(self) -> None:
        self.cursor: Any = None

    @property
    def rowcount(self) -> int:
        if self.cursor is None:
            raise RuntimeError("this write is held back by its batch and has not run yet")
        return int(self.cursor.rowcount)


def _batch_of(connection: Connection) -> Batch | None:
    batch: Batch | None = connection.info.get(_BATCH)
    return batch


@contextmanager
def batched(connection: Connection) -> Iterator[Batch]:
    """Run the block's statements as one :class:`Batch` (nested: the outer one)."""
    outer = _batch_of(connection)
    if outer is not None:
        yield outer
        return
    batch = connection.info[_BATCH] = Batch(connection)
    try:
        yield batch
    except BaseException as exc:
        batch._wait(failing=exc)
        raise
    else:
        batch._wait()
    finally:
        connection.info.pop(_BATCH, None)
    batch._verify()


def end_batches_before_statements(engine: Engine) -> None:
    """Let SQLAlchemy's own statements on ``engine`` run inside a batch: each one first runs
    the writes the batch holds back and ends its open pipeline (the driver cannot describe a
    query's result inside one)."""
    @event.listens_for(engine, "before_cursor_execute")
    def _end_pipeline(connection: Connection, *_args: Any) -> None:
        batch = connection.info.get(_BATCH)
        if batch is not None:
            batch._wait()
