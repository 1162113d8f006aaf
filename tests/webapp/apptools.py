"""The harness of the web tests: the app on the test database and clients that drive it.

Every client refuses 5xx answers: no input may make the server fail. ``Browser`` signs in
through the login page and sends the CSRF token, as a person's browser would; ``bearer``
takes an API token. ``serving`` runs an app on a free port for the browser tests.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.test import TestResponse

from webapp import demo, security
from webapp.app import create_app
from webapp.config import Settings
from webapp.db import Database
from webapp.extensions import DATABASE_KEY

PASSWORD = demo.PASSWORD
OTHER_PARK = "other"
OTHER_ENTERPRISE = "远方制造有限公司"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class NoServerErrors(FlaskClient):
    """A test client that fails the test on any 5xx answer (unless ``allow_5xx`` is set)."""

    allow_5xx = False

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        if not self.allow_5xx:
            assert response.status_code < 500, response.get_data(as_text=True)
        return response


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


def csrf_of(page: TestResponse) -> str:
    """The CSRF token in a page's meta tag."""
    found = CSRF_META.search(page.get_data(as_text=True))
    assert found is not None, "the page carries no csrf-token meta tag"
    return found.group(1)


def text_of(page: TestResponse) -> str:
    """A page's HTML as text."""
    return page.get_data(as_text=True)


def bearer(client: FlaskClient, username: str) -> dict[str, str]:
    """Sign in to the API; the Authorization header carrying the token."""
    response = client.post("/api/v1/auth/token",
                           json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def make_app(database_url: str, instance_path: Path, **config: Any) -> Flask:
    """The app on ``database_url`` with rate limiting off unless ``config`` says otherwise."""
    settings = Settings(instance_path=instance_path, database_url=database_url,
                        secret_key="test-secret")
    app = create_app(settings, {"TESTING": True, "RATELIMIT_ENABLED": False, **config})
    app.test_client_class = NoServerErrors
    return app


class QuietHandler(WSGIRequestHandler):
    """Serves requests without logging each one."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing: the tests' output stays readable."""


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` in a thread on a free port of 127.0.0.1 until the block ends; its URL."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True,
                                         request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with the cheapest Argon2 parameters: the strength is not under test here."""
    monkeypatch.setattr(security, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(parks: Database, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The Parkflow app on the test database, once ``parks`` has filled it."""
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
