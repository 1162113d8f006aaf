"""The everyday pages in both languages, on a desktop and on a 390-pixel phone: screenshots
to look at, and nothing wider than the screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from tests.e2e.conftest import SIGNED_IN_TIMEOUT_MS, LiveServer
from tests.webapp.fixtures import REASONS, complete, start
from webapp.demo import PASSWORD
from webapp.models import User
from webapp.services.accounts import get_park
from webapp.services.drafts import save_draft
from webapp.services.inbox import InboxFilter
from webapp.services.saved_filters import save_filter

SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"zh": "zh-CN", "en": "en"}


def signed_in_as(
    chromium: Browser, server: LiveServer, username: str, language: str, screen: str
) -> Page:
    context = chromium.new_context(locale=LANGUAGES[language], viewport=SCREENS[screen])
    context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("input[type=password]").first.press("Enter")
    page.wait_for_url(re.compile(r"/(inbox|applications)$"))
    return page


def wider_than_the_screen(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1"))


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_apply_tracker_and_inbox(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str, screen: str
) -> None:
    instance_id = start(live_server.db)
    complete(
        live_server.db,
        instance_id,
        "preliminary_review",
        {"outcome": "return", "return_reasons": REASONS, "comment": "请一次补齐"},
        "zhang.wei",
    )
    start(live_server.db)
    with live_server.db.write() as session:  # an unfinished application, listed above the rest
        user = session.scalars(select(User).where(User.username == "xinghe")).one()
        park = get_park(session, "demo")
        save_draft(session, park_id=park.id, user_id=user.id, process_key="tax_docking",
                   values={"contact_name": "李娜"})
    with live_server.db.write() as session:  # the reviewer's saved filters, as chips
        reviewer_user = session.scalars(select(User).where(User.username == "zhang.wei")).one()
        park = get_park(session, "demo")
        for name, chosen in (
            ("超期待办" if language == "zh" else "Overdue", InboxFilter(overdue_only=True)),
            ("等待最久" if language == "zh" else "Waiting longest", InboxFilter(sort="waiting")),
        ):
            save_filter(
                session,
                user_id=reviewer_user.id,
                username="zhang.wei",
                park_id=park.id,
                name=name,
                chosen=chosen,
            )
    enterprise = signed_in_as(chromium, live_server, "xinghe", language, screen)
    reviewer = signed_in_as(chromium, live_server, "zhang.wei", language, screen)
    pages = {
        "apply": (enterprise, "/applications/new/policy_subsidy"),
        "tracker": (enterprise, f"/applications/{instance_id}"),
        "applications": (enterprise, "/applications"),
        "inbox": (reviewer, "/inbox"),
        "inbox-sorted": (reviewer, "/inbox?sort=priority"),
    }
    wide = []
    for name, (page, path) in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / f"{name}-{language}-{screen}.png"), full_page=True)
        assert page.title().endswith(("Parkflow", "园区企业服务")) and " · " in page.title()
        if wider_than_the_screen(page):
            wide.append(name)
    assert wide == [], f"wider than a {screen} screen: {wide}"
    enterprise.context.close()
    reviewer.context.close()
