"""Rate-limit counters in Parkflow's own database, shared by every web process.

Flask-Limiter keeps its counters in a ``limits`` storage named by a URI. Its memory storage
counts per process, so N gunicorn processes allowed N times the limit; Redis shares them but
is one more server to run. This storage (``parkflow+database://``, the default) keeps the
counters of the fixed-window strategy in the ``rate_limit_counters`` table, registered as the
``limits`` documentation describes for custom storages. A Redis URI in
``PARKFLOW_RATELIMIT_STORAGE_URI`` still replaces it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from limits.storage import Storage
from sqlalchemy import delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from webapp.db import Database, UTCDateTime
from webapp.models import RateLimitCounter

STORAGE_URI = "parkflow+database://"
_KEY_LENGTH = 255
_COUNTER = RateLimitCounter


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counters`` table."""

    STORAGE_SCHEME = ["parkflow+database"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        database: Database,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits; a window that has ended starts again with them."""
        now = datetime.now(UTC)
        with self.database.write() as session:
            connection = session.connection()
            # an ended window counts for nothing: gone, it starts afresh below
            connection.execute(
                delete(_COUNTER).where(_COUNTER.expires_at <= literal(now, UTCDateTime()))
            )
            values = {
                "key": _stored(key),
                "hits": amount,
                "expires_at": now + timedelta(seconds=expiry),
            }
            insert = (
                postgresql.insert(_COUNTER)
                if connection.dialect.name == "postgresql"
                else sqlite.insert(_COUNTER)
            )
            upsert = (
                insert.values(values)
                .on_conflict_do_update(
                    index_elements=[_COUNTER.key],
                    set_={"hits": _COUNTER.hits + amount},
                )
                .returning(_COUNTER.hits)
            )
            return int(connection.execute(upsert).scalar_one())

    def get(self, key: str) -> int:
        """The hits counted in the key's current window."""
        found = self._current(key)
        return 0 if found is None else found.hits

    def get_expiry(self, key: str) -> float:
        """When the key's current window ends (a POSIX time)."""
        found = self._current(key)
        return (found.expires_at if found is not None else datetime.now(UTC)).timestamp()

    def check(self) -> bool:
        """Whether the table can be read."""
        try:
            with self.database.read() as session:
                session.execute(select(_COUNTER.key).limit(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; how many there were."""
        with self.database.write() as session:
            return int(session.execute(delete(_COUNTER)).rowcount)  # type: ignore[attr-defined]

    def clear(self, key: str) -> None:
        """Forget one key's counter."""
        with self.database.write() as session:
            session.execute(delete(_COUNTER).where(_COUNTER.key == _stored(key)))

    def _current(self, key: str) -> RateLimitCounter | None:
        with self.database.read() as session:
            found = session.get(RateLimitCounter, _stored(key))
            if found is None or found.expires_at <= datetime.now(UTC):
                return None
            session.expunge(found)
            return found


def _stored(key: str) -> str:
    """The key as stored: a key too long for its column is replaced by its digest."""
    if len(key) <= _KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


__all__ = ["STORAGE_URI", "DatabaseStorage"]
