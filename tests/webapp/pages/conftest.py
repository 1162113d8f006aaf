"""Fixtures of the page tests: the demo park, a second park, and a browser-like test client.

Park ``other`` has its own reviewer and enterprise and runs the same procedures, and
``zhang.wei`` belongs to both parks, so every test can check that nothing of one tenant or
enterprise shows in another. Every answer of the client is checked to be no 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from forms import FORMS_DIR, load_forms
from tests.webapp.fixtures import PROCESSES
from webapp import demo, security
from webapp.app import create_app
from webapp.config import Settings
from webapp.db import Database
from webapp.extensions import DATABASE_KEY
from webapp.models import Membership
from webapp.pages import register_pages
from webapp.services import accounts, processes

PASSWORD = demo.PASSWORD
OTHER_PARK = "other"
OTHER_ENTERPRISE = "远方制造有限公司"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")


class Browser:
    """A test client that signs in through the login page and sends the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def login(self, username: str, password: str = PASSWORD) -> Browser:
        """Sign in through the form, as a person would."""
        page = self.client.get("/login")
        answer = self.client.post("/login", data={
            "username": username, "password": password, "csrf_token": csrf_of(page)})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        self.refresh_token()
        return self

    def refresh_token(self) -> None:
        """Take the session's CSRF token from a page (signing in starts a new session)."""
        self.token = csrf_of(self.client.get("/notifications"))

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: Mapping[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> TestResponse:
        """POST a form (multipart when it holds files), with the CSRF token unless told not."""
        fields = dict(data or {})
        if csrf:
            fields.setdefault("csrf_token", self.token)
        if any(isinstance(v, tuple) or (isinstance(v, list) and v and isinstance(v[0], tuple))
               for v in fields.values()):
            kwargs.setdefault("content_type", "multipart/form-data")
        return self.client.post(url, data=fields, **kwargs)


class NoServerErrors(FlaskClient):
    """A test client that fails the test on any 5xx answer."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        assert response.status_code < 500, response.get_data(as_text=True)
        return response


def csrf_of(page: TestResponse) -> str:
    """The CSRF token in a page's meta tag."""
    found = CSRF_META.search(page.get_data(as_text=True))
    assert found is not None, "the page carries no csrf-token meta tag"
    return found.group(1)


def text_of(page: TestResponse) -> str:
    """A page's HTML as text."""
    return page.get_data(as_text=True)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with the cheapest Argon2 parameters: the strength is not under test here."""
    monkeypatch.setattr(security, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def build_parks(db: Database) -> None:
    """The demo park, a second park ``other`` and a user who belongs to no park."""
    with db.write() as session:
        demo.create_demo(session, actor="test")
        other = accounts.create_park(session, actor="test", slug=OTHER_PARK, name="远方园区")
        for group in demo.GROUPS:
            accounts.create_group(session, actor="test", park_slug=OTHER_PARK, name=group)
        for username, role, extra in (
                ("other.reviewer", "reviewer", {"groups": ["政策审核组"]}),
                ("other.ent", "enterprise", {"enterprise": OTHER_ENTERPRISE}),
                ("zhang.wei", "reviewer", {"groups": ["政策审核组"]})):
            accounts.create_user(session, actor="test", username=username, password=PASSWORD,
                                 park_slug=OTHER_PARK, role=role, **extra)
        processes.deploy(session, park=other, actor="test",
                         bpmn={p.name: p.read_bytes() for p in PROCESSES.glob("*.bpmn")},
                         dmn={p.name: p.read_bytes() for p in PROCESSES.glob("*.dmn")},
                         forms=load_forms(FORMS_DIR))
        user = accounts.create_user(session, actor="test", username="nomad", password=PASSWORD,
                                    park_slug=OTHER_PARK, role="reviewer")
        session.flush()
        session.delete(session.get_one(Membership, (user.id, other.id)))


def make_app(database_url: str, instance_path: Path, **config: Any) -> Flask:
    """The app with its pages, rate limiting off unless ``config`` says otherwise."""
    settings = Settings(instance_path=instance_path, database_url=database_url,
                        secret_key="test-secret")
    app = create_app(settings, {"TESTING": True, "RATELIMIT_ENABLED": False, **config})
    if "pages" not in app.blueprints:
        register_pages(app)
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
def browser(app: Flask) -> Callable[[str | None], Browser]:
    """A new browser session, signed in as the given user (or not signed in with None)."""

    def open_browser(username: str | None = None) -> Browser:
        visitor = Browser(app.test_client())
        return visitor.login(username) if username else visitor

    return open_browser
