"""Fixtures of the administration tests: the two parks of the page tests, with the admin pages.

The demo park ``demo`` (administrator ``admin``) and the second park ``other`` come from the
page tests' ``build_parks``; ``zhang.wei`` is a reviewer in both. ``other`` gets its own
administrator ``other.admin`` here, so every test can check that one park's administrator
sees nothing of the other park.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.webapp.pages.conftest import (
    PASSWORD,
    Browser,
    build_parks,
    fast_password_hashing,
    make_app,
)
from webapp.admin import register_admin
from webapp.db import Database
from webapp.extensions import DATABASE_KEY
from webapp.services import accounts

__all__ = ["fast_password_hashing"]
OTHER_ADMIN = "other.admin"


@pytest.fixture
def parks(db: Database) -> Database:
    """The demo park, the park ``other`` with its own administrator."""
    build_parks(db)
    with db.write() as session:
        accounts.create_user(session, actor="test", username=OTHER_ADMIN, password=PASSWORD,
                             park_slug="other", role="admin")
    return db


@pytest.fixture
def app(parks: Database, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The Parkflow app with its pages and the administration."""
    app = make_app(database_url, tmp_path / "instance")
    if "admin" not in app.blueprints:
        register_admin(app)
    yield app
    app.extensions[DATABASE_KEY].dispose()


@pytest.fixture
def browser(app: Flask) -> Callable[[str | None], Browser]:
    """A new browser session, signed in as the given user (or not signed in with None)."""

    def open_browser(username: str | None = None) -> Browser:
        visitor = Browser(app.test_client())
        return visitor.login(username) if username else visitor

    return open_browser


@pytest.fixture
def admin(browser: Callable[[str | None], Browser]) -> Browser:
    """The demo park's administrator, signed in."""
    return browser("admin")
