"""Fixtures for the REST API: an app and a client per database, with two parks to tell apart.

The demo park (``parkflow demo``) plus the small ``api_probe`` procedure, and a second park
``other`` with its own admin, reviewer, enterprise user and procedures, so that every test can
check that nothing of one tenant shows in the other. Every response of the client is checked
to be no 5xx: no input may make the server fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from webapp import demo, security
from webapp.app import create_app
from webapp.config import Settings
from webapp.db import Database
from webapp.extensions import DATABASE_KEY
from webapp.services import accounts, processes

DATA = Path(__file__).parent / "data"
PASSWORD = demo.PASSWORD
OTHER_PARK = "other"
OTHER_ENTERPRISE = "远方制造有限公司"

Login = Callable[[str], dict[str, str]]


class NoServerErrors(FlaskClient):
    """A test client that fails the test on any 5xx answer (unless ``allow_5xx`` is set)."""

    allow_5xx = False

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        if not self.allow_5xx:
            assert response.status_code < 500, response.get_data(as_text=True)
        return response


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with the cheapest Argon2 parameters: the strength is not under test here."""
    monkeypatch.setattr(security, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


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


def make_app(database_url: str, instance_path: Path, **config: Any) -> Flask:
    """An app on ``database_url`` with rate limiting off unless ``config`` says otherwise."""
    settings = Settings(instance_path=instance_path, database_url=database_url,
                        secret_key="test-secret")
    app = create_app(settings, {"TESTING": True, "RATELIMIT_ENABLED": False, **config})
    app.test_client_class = NoServerErrors
    return app


@pytest.fixture
def parks(db: Database) -> Database:
    """The database with both parks in it."""
    build_parks(db)
    return db


@pytest.fixture
def app(parks: Database, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The Parkflow app on the test database."""
    app = make_app(database_url, tmp_path / "instance")
    yield app
    app.extensions[DATABASE_KEY].dispose()


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
            response = client.post("/api/v1/auth/token",
                                   json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.json
            cache[username] = {"Authorization": f"Bearer {response.json['token']}"}
        return cache[username]

    return headers
