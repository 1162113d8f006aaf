"""Statements sent to PostgreSQL through libpq itself: pipelined, prepared once per connection.

A task completion runs about a dozen statements. Through psycopg's cursor and pipeline each
one costs some 30 µs of Python around the little that libpq does for it (measured: ten
inserts and a commit, 450 µs of client CPU through psycopg's pipeline, 130 µs here). Here a
statement costs the conversion of its values and one libpq call; a pipeline costs one flush
and one read of the answers up to its Sync.

Values are adapted by psycopg's own dumpers and rows loaded by its loaders (text format, as
its cursors do), so what goes in and comes out is what a cursor gives. Each statement is
prepared on the server the first time a connection runs it, under a name of this module's.

psycopg must not prepare statements of its own on such a connection (``prepare_threshold``
None, as `webapp.db.make_engine` sets it): after every rollback it deallocates all of a
connection's prepared statements, these included. :func:`usable` checks that.
"""

from __future__ import annotations

import contextlib
import re
import select
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result

_OK = pq.ExecStatus.COMMAND_OK
_FAILED = pq.ExecStatus.FATAL_ERROR
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_IDLE = pq.TransactionStatus.IDLE
_SQLSTATE = pq.DiagnosticField.SQLSTATE
_NO_SUCH_STATEMENT = b"26000"  # invalid_sql_statement_name
# psycopg's named placeholders (as SQLAlchemy writes them for it) and its escaped percent sign
_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")


def usable(driver: Any) -> bool:
    """Whether statements may go through this module on ``driver`` (a DB-API connection)."""
    return isinstance(driver, psycopg.Connection) and driver.prepare_threshold is None


def positional(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """psycopg's ``%(name)s`` placeholders as libpq's ``$1, $2, ...`` (a name used twice is
    one parameter); the SQL and the names in parameter order."""
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        return f"${order.setdefault(name, len(order) + 1)}"

    text = _PLACEHOLDER.sub(number, sql)
    return text.encode(), tuple(order)


class Dumped(NamedTuple):
    """Values as they go on the wire (see :func:`dumped`)."""

    data: Sequence[Buffer | None]
    formats: Sequence[pq.Format]


def dumped(driver: psycopg.Connection[Any], values: Sequence[Any]) -> Dumped:
    """``values`` as the bytes a statement sends for them: text, as psycopg's cursors send,
    but bytes in binary (bytea's text form is twice as long and must be parsed again)."""
    formats = [PyFormat.BINARY if isinstance(value, bytes | bytearray | memoryview)
               else PyFormat.TEXT for value in values]
    transformer = _known(driver).transformer
    data = transformer.dump_sequence(values, formats)
    return Dumped(data, list(transformer.formats or ()))


class Sent:
    """A statement sent in a pipeline: its result once the pipeline has finished."""

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result: pq.abc.PGresult | None = None

    @property
    def rowcount(self) -> int:
        """Rows changed (or returned), as a cursor's ``rowcount``."""
        if self.result is None:
            raise RuntimeError("this statement's pipeline has not finished yet")
        count = self.result.command_tuples
        return -1 if count is None else count


class _Prepare:
    """A statement being prepared in the pipeline: known to the connection once it worked."""

    __slots__ = ("name", "sql")

    def __init__(self, sql: bytes, name: bytes) -> None:
        self.sql, self.name = sql, name


class _Known:
    """What this module keeps of one connection: its prepared statements and adaptation."""

    __slots__ = ("named", "prepared", "transformer")

    def __init__(self, driver: psycopg.Connection[Any]) -> None:
        self.prepared: dict[bytes, bytes] = {}  # SQL -> its name on the server
        self.named = 0
        self.transformer = Transformer(driver)


_KNOWN: weakref.WeakKeyDictionary[psycopg.Connection[Any], _Known] = weakref.WeakKeyDictionary()


def _known(driver: psycopg.Connection[Any]) -> _Known:
    known = _KNOWN.get(driver)
    if known is None:
        known = _KNOWN[driver] = _Known(driver)
    return known


class Pipe:
    """One pipeline on a connection: statements are sent at once and their results read at
    :meth:`finish`. Nothing else may use the connection until then; after an error of the
    caller's, :meth:`abandon` ends it.

    If the connection is not in a transaction (and not in autocommit), the pipeline opens
    one first, as psycopg would before a statement.
    """

    def __init__(self, driver: psycopg.Connection[Any]) -> None:
        self._driver = driver
        self._pg = driver.pgconn
        self._known = _known(driver)
        # per command sent, in order: a statement, a preparation, or None (BEGIN)
        self._sent: list[Sent | _Prepare | None] = []
        self._preparing: dict[bytes, bytes] = {}
        begin = self._pg.transaction_status == _IDLE and not driver.autocommit
        self._pg.enter_pipeline_mode()
        if begin:
            try:
                self._pg.send_query_params(_begin_command(driver), None)
            except BaseException:
                self.abandon()
                raise
            self._sent.append(None)

    def send(self, sql: bytes, values: Sequence[Any] | Dumped) -> Sent:
        """Send ``sql`` (``$n`` parameters) with ``values`` (or what :func:`dumped` made of
        them); prepares it first if needed."""
        if not isinstance(values, Dumped):
            values = dumped(self._driver, values)
        name = self._known.prepared.get(sql) or self._preparing.get(sql)
        if name is None:
            self._known.named += 1
            name = b"pf_%d" % self._known.named
            self._pg.send_prepare(name, sql)
            self._preparing[sql] = name
            self._sent.append(_Prepare(sql, name))
        self._pg.send_query_prepared(name, values.data, values.formats)
        sent = Sent()
        self._sent.append(sent)
        return sent

    def finish(self) -> None:
        """Wait for every result; raise the first statement's error (psycopg's exception
        class for it), after which the transaction is aborted, as with a cursor."""
        results = self._end()
        failed = None
        for sent, result in zip(self._sent, results, strict=True):
            if isinstance(sent, Sent):
                sent.result = result
            elif isinstance(sent, _Prepare) and result.status == _OK:
                self._known.prepared[sent.sql] = sent.name
            if failed is None and result.status == _FAILED:
                failed = result
        if failed is not None:
            if failed.error_field(_SQLSTATE) == _NO_SUCH_STATEMENT:
                # something deallocated them behind this module's back (DEALLOCATE ALL,
                # DISCARD ALL): this transaction fails, the next prepares them again
                self._known.prepared.clear()
            raise error_from_result(failed, encoding=self._driver.info.encoding)

    def abandon(self) -> None:
        """End the pipeline without looking at its results (the caller is failing anyway);
        statements prepared in it are forgotten, and prepared again on next use."""
        # an error here means the connection is broken: whoever uses it next finds out
        with contextlib.suppress(psycopg.Error):
            self._end()

    def _end(self) -> list[pq.abc.PGresult]:
        pg = self._pg
        pg.pipeline_sync()
        results = _read_until_sync(pg)
        pg.exit_pipeline_mode()
        return results


def rows(driver: psycopg.Connection[Any], sent: Sent) -> list[tuple[Any, ...]]:
    """The rows of a finished query, loaded as psycopg's cursors load them."""
    result = sent.result
    if result is None:
        raise RuntimeError("this statement's pipeline has not finished yet")
    transformer = _known(driver).transformer
    transformer.set_pgresult(result)
    try:
        return transformer.load_rows(0, result.ntuples, tuple)
    finally:
        transformer.set_pgresult(None)


def _begin_command(driver: psycopg.Connection[Any]) -> bytes:
    """The BEGIN psycopg would send for the connection's settings."""
    parts = [b"BEGIN"]
    if driver.isolation_level is not None:
        level = psycopg.IsolationLevel(driver.isolation_level)
        parts += [b"ISOLATION LEVEL", level.name.replace("_", " ").encode()]
    if driver.read_only is not None:
        parts.append(b"READ ONLY" if driver.read_only else b"READ WRITE")
    if driver.deferrable is not None:
        parts.append(b"DEFERRABLE" if driver.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _read_until_sync(pg: pq.abc.PGconn) -> list[pq.abc.PGresult]:
    """Send what is buffered and read results up to the pipeline's Sync: one per command."""
    fd = pg.socket
    while pg.flush():  # the socket is full: read the server's answers meanwhile
        _wait(fd, select.POLLIN | select.POLLOUT)
        pg.consume_input()
    results: list[pq.abc.PGresult] = []
    while True:
        while pg.is_busy():
            _wait(fd, select.POLLIN)
            pg.consume_input()
        result = pg.get_result()
        if result is None:  # the end of one command's results
            continue
        if result.status == _SYNC:
            return results
        results.append(result)


def _wait(fd: int, events: int) -> None:
    poller = select.poll()
    poller.register(fd, events)
    while not poller.poll():
        pass
