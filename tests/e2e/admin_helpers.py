"""A real Parkflow server for the administration's browser tests, with its pages.

The app runs in a thread (werkzeug's ``make_server`` on a free port) against a temporary
SQLite database holding the demo park, for all tests of a module. Chromium comes from the
``chromium`` fixture of ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from tests.webapp.apptools import serving
from webapp.app import create_app
from webapp.config import Settings
from webapp.db import Database
from webapp.demo import PASSWORD, create_demo
from webapp.extensions import DATABASE_KEY
from webapp.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# a step that has not happened by then is broken, not slow
WAIT_MS = 20_000


@dataclass(frozen=True)
class Server:
    """The running app: its address and its database."""

    url: str
    db: Database


@contextmanager
def running_server(tmp_path: Path) -> Iterator[Server]:
    """Serve the demo park from a fresh SQLite database until the block ends."""
    database_url = f"sqlite:///{tmp_path / 'parkflow.db'}"
    upgrade(database_url)
    db = Database(database_url)
    with db.write() as session:
        create_demo(session, actor=None)
    settings = Settings(instance_path=tmp_path / "instance", database_url=database_url,
                        secret_key="e2e-secret")
    app = create_app(settings, {"RATELIMIT_ENABLED": False})
    try:
        with serving(app) as address:
            yield Server(address, db)
    finally:
        app.extensions[DATABASE_KEY].dispose()
        db.dispose()


def sign_in(page: Page, server: Server, username: str, *, locale: str = "en") -> None:
    """Sign in through the login page, in the language given."""
    page.goto(f"{server.url}/login")
    page.locator(f'.language button[value="{locale}"]').click()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator('form[action="/login"] button[type="submit"]').click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=WAIT_MS)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/admin-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"admin-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
