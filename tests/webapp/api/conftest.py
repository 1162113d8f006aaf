"""Fixtures for the REST API: an app and a client per database, with two parks to tell apart.

The demo park (``parkflow demo``) plus the small ``api_probe`` procedure, and a second park
``other`` with its own admin, reviewer, enterprise user and procedures, so that every test can
check that nothing of one tenant shows in the other. Every response of the client is checked
to be no 5xx: no input may make the server fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Seed
from tests.webapp.apptools import (
    OTHER_ENTERPRISE,
    OTHER_PARK,
    PASSWORD,
    app,
    bearer,
    fast_password_hashing,
)
from webapp import demo
from webapp.db import Database
from webapp.services import accounts, processes

__all__ = ["app", "fast_password_hashing"]
DATA = Path(__file__).parent / "data"

Login = Callable[[str], dict[str, str]]


def probe_sources() -> dict[str, Any]:
    """The ``api_probe`` procedure: a review by 政策审核组, then a wait for a message."""
    return {"bpmn": {"probe.bpmn": (DATA / "probe.bpmn").read_bytes()},
            "forms": {"probe_review": json.loads((DATA / "probe_review.json").read_text())}}


def build_parks(db: Database) -> None:
    """Create the demo park, the probe procedure in it, and the second park ``other``."""
    with db.write() as session:
        demo.create_demo(session, actor="test")
        park = accounts.get_park(session, demo.PARK_SLUG)
        processes.deploy(session, park=park, actor="test", **probe_sources())
        other = accounts.create_park(session, actor="test", slug=OTHER_PARK, name="Other Park")
        accounts.create_group(session, actor="test", park_slug=OTHER_PARK, name="政策审核组")
        for username, role, extra in (
                ("other.admin", "admin", {}),
                ("other.reviewer", "reviewer", {"groups": ["政策审核组"]}),
                ("other.ent", "enterprise", {"enterprise": OTHER_ENTERPRISE})):
            accounts.create_user(session, actor="test", username=username, password=PASSWORD,
                                 park_slug=OTHER_PARK, role=role, **extra)
        processes.deploy(session, park=other, actor="test", **probe_sources())


PARKS = Seed("api_parks", build_parks)


@pytest.fixture
def seed(seed: Seed | None, request: pytest.FixtureRequest) -> Seed | None:
    """Both parks for tests that ask for ``parks``."""
    return PARKS if "parks" in request.fixturenames else seed


@pytest.fixture
def parks(db: Database) -> Database:
    """The database with both parks in it."""
    return db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def login(client: FlaskClient) -> Login:
    """Sign in as a user; returns the Authorization header (cached per user)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = bearer(client, username)
        return cache[username]

    return headers
