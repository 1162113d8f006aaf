"""Fixtures of the administration tests: the two parks of the page tests, with the admin pages.

The demo park ``demo`` (administrator ``admin``) and the second park ``other`` come from the
page tests' ``build_parks``; ``zhang.wei`` is a reviewer in both. ``other`` gets its own
administrator ``other.admin`` here, so every test can check that one park's administrator
sees nothing of the other park.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Seed
from tests.webapp.apptools import PASSWORD, Browser, app, browser, fast_password_hashing
from tests.webapp.pages.conftest import build_parks
from webapp.db import Database
from webapp.services import accounts

__all__ = ["app", "browser", "fast_password_hashing"]
OTHER_ADMIN = "other.admin"


def build_admin_parks(db: Database) -> None:
    """The page tests' two parks, and an administrator of park ``other``."""
    build_parks(db)
    with db.write() as session:
        accounts.create_user(session, actor="test", username=OTHER_ADMIN, password=PASSWORD,
                             park_slug="other", role="admin")


PARKS = Seed("admin_parks", build_admin_parks)


@pytest.fixture
def seed(seed: Seed | None, request: pytest.FixtureRequest) -> Seed | None:
    """The two parks with both administrators for tests that ask for ``parks``."""
    return PARKS if "parks" in request.fixturenames else seed


@pytest.fixture
def parks(db: Database) -> Database:
    """The demo park, the park ``other`` with its own administrator."""
    return db


@pytest.fixture
def admin(browser: Callable[[str | None], Browser]) -> Browser:
    """The demo park's administrator, signed in."""
    return browser("admin")
