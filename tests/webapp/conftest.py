"""Fixtures of the web layer's tests: a frozen clock and the demo park."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from tests.conftest import Seed
from tests.webapp.fixtures import MONDAY
from webapp.db import Database
from webapp.demo import create_demo


def build_demo(db: Database) -> None:
    """The demo park: its groups, people and the four procedures."""
    with db.write() as session:
        create_demo(session, actor="admin")


DEMO = Seed("demo", build_demo)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The clock frozen on Monday 2 March 2026, 09:00 in Shanghai; move it to fire timers."""
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seed(seed: Seed | None, request: pytest.FixtureRequest) -> Seed | None:
    """The demo park for tests that ask for ``demo_db``."""
    return DEMO if "demo_db" in request.fixturenames else seed


@pytest.fixture
def demo_db(db: Database) -> Database:
    """A database holding the demo park: its groups, people and the four procedures."""
    return db
