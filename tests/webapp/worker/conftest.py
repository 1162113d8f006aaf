"""Fixtures of the worker tests: a worker on the demo park, and notifications read back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from webapp.db import Database
from webapp.models import Job, Notification, User
from webapp.worker import Worker


@pytest.fixture
def worker(demo_db: Database) -> Worker:
    """A worker on the demo database, run step by step with ``run_until_idle``."""
    return Worker(demo_db, worker_id="test-worker")


@pytest.fixture
def inbox(demo_db: Database) -> Callable[..., list[tuple[str, str, str]]]:
    """(username, kind, title) of the in-app notifications, oldest first; filter by kind."""

    def read(*kinds: str) -> list[tuple[str, str, str]]:
        with demo_db.read() as session:
            stmt = (select(User.username, Notification.kind, Notification.title)
                    .join(User, User.id == Notification.user_id)
                    .order_by(Notification.id))
            if kinds:
                stmt = stmt.where(Notification.kind.in_(kinds))
            return [(name, kind, title) for name, kind, title in session.execute(stmt)]

    return read


@pytest.fixture
def jobs_of(demo_db: Database) -> Callable[..., list[Job]]:
    """The jobs of an application (all, or of the given kinds), detached, by due time."""

    def read(instance_id: str, *kinds: str, **filters: Any) -> list[Job]:
        with demo_db.read() as session:
            stmt = select(Job).where(Job.instance_id == instance_id).order_by(Job.due_at, Job.id)
            if kinds:
                stmt = stmt.where(Job.kind.in_(kinds))
            for column, value in filters.items():
                stmt = stmt.where(getattr(Job, column) == value)
            rows = list(session.scalars(stmt))
            session.expunge_all()
            return rows

    return read
