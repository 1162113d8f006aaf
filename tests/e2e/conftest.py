"""Fixtures of the browser tests: the app served on a free port, and Chromium driving it.

The app runs in a thread (werkzeug's server) on a temporary SQLite database holding the demo
park. The browser is Debian's Chromium at /usr/bin/chromium, else Playwright's own one if
it is installed; without either the tests are skipped. Screenshots of every page go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, Playwright, sync_playwright

from tests.webapp.apptools import make_app, serving
from webapp.db import Database
from webapp.demo import PASSWORD, create_demo
from webapp.extensions import DATABASE_KEY
from webapp.migrate import upgrade

SIGNED_IN_TIMEOUT_MS = 15_000

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BUNDLE = ROOT / "webapp" / "static" / "dist" / "viewer.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# unlabelled form controls on the current page: none may exist
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 160))"""


@dataclass(frozen=True)
class LiveServer:
    """The running app: its address and its database."""

    url: str
    db: Database


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, or Playwright's own; the tests are skipped without a browser."""
    try:
        if CHROMIUM.exists():
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS)
        else:
            browser = playwright.chromium.launch(args=CHROMIUM_ARGS)
    except Error as exc:
        pytest.skip(f"no Chromium to run the browser tests: {exc.message.splitlines()[0]}")
    yield browser
    browser.close()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app with the demo park, served on a free port of 127.0.0.1."""
    if not BUNDLE.exists():
        pytest.fail("the browser bundle is missing: run make webapp/static/dist/.built")
    url = f"sqlite:///{tmp_path / 'parkflow.db'}"
    upgrade(url)
    db = Database(url)
    with db.write() as session:
        create_demo(session, actor="test")
    app = make_app(url, tmp_path / "instance")
    with serving(app) as address:
        yield LiveServer(address, db)
    app.extensions[DATABASE_KEY].dispose()
    db.dispose()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder for screenshots (each run overwrites the files of the same names)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def unlabelled(page: Page) -> list[str]:
    """The form controls of the page that have no label."""
    found: list[str] = page.evaluate(UNLABELLED)
    return found


def signed_in(chromium: Browser, server: LiveServer, username: str) -> Page:
    """A new browser context of ``username``, signed in with the demo password, in Chinese."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(re.compile(r"/(inbox|applications)$"))
    return page
