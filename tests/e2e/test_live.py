"""An enterprise watching its tracker, and a reviewer watching the inbox, see a step move
without reloading; the finished tracker says what was granted; screenshots of both, on a
desktop and on a 390-pixel phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SIGNED_IN_TIMEOUT_MS, LiveServer
from tests.e2e.test_screens import LANGUAGES, SCREENS, signed_in_as, wider_than_the_screen
from tests.webapp.fixtures import complete, open_tasks, start
from tests.webapp.pages.test_applications import completed_application
from webapp.services.ratings import rate_application

# the page looks every second: the change shows well within two
SEEN_WITHIN_MS = 2_500


def mark_page(page: Page) -> None:
    """Leave a mark in the page's script world: a reload would wipe it."""
    page.evaluate("() => { window.pfNotReloaded = true; }")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("() => window.pfNotReloaded === true"))


def test_the_tracker_and_the_inbox_follow_a_reviewers_decision(
    chromium: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    instance_id = start(live_server.db)
    task_id = open_tasks(live_server.db, instance_id)["preliminary_review"].id
    enterprise = signed_in_as(chromium, live_server, "xinghe", "zh", "desktop")
    director = signed_in_as(chromium, live_server, "li.na", "zh", "desktop")
    reviewer = signed_in_as(chromium, live_server, "zhang.wei", "zh", "desktop")
    try:
        enterprise.goto(f"{live_server.url}/applications/{instance_id}")
        now = enterprise.locator("#live-now .current-steps")
        expect(now).to_contain_text("初审")
        expect(enterprise.locator('.pf-diagram[data-ready="1"]')).to_be_visible()
        director.goto(f"{live_server.url}/inbox")
        expect(director.locator("#live-tasks")).not_to_contain_text("复核")
        mark_page(enterprise)
        mark_page(director)

        reviewer.goto(f"{live_server.url}/tasks/{task_id}")
        reviewer.get_by_role("button", name="认领").click()
        reviewer.get_by_label("通过", exact=True).check()
        reviewer.get_by_role("button", name="提交", exact=True).click()
        reviewer.wait_for_url(re.compile(r"/inbox$"))

        # the step moved on the enterprise's open page, and in the director's inbox
        expect(now).to_contain_text("复核", timeout=SEEN_WITHIN_MS)
        expect(enterprise.locator("#live-story .timeline")).to_contain_text(
            "初审", timeout=SEEN_WITHIN_MS
        )
        current = enterprise.locator('.pf-diagram [data-element-id="director_review"]')
        expect(current).to_have_class(re.compile("pf-current"), timeout=SEEN_WITHIN_MS)
        expect(director.locator("#live-tasks")).to_contain_text("复核", timeout=SEEN_WITHIN_MS)
        expect(director.locator("#live-counts .number").first).to_have_text("1")
        assert not_reloaded(enterprise) and not_reloaded(director)
        enterprise.screenshot(path=str(screenshots / "live-tracker-zh-desktop.png"), full_page=True)
        director.screenshot(path=str(screenshots / "live-inbox-zh-desktop.png"), full_page=True)
    finally:
        for page in (enterprise, director, reviewer):
            page.context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_tracker_live_and_finished(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str, screen: str
) -> None:
    running = start(live_server.db)
    complete(live_server.db, running, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    done = completed_application(live_server.db)
    enterprise = signed_in_as(chromium, live_server, "xinghe", language, screen)
    enterprise.context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    try:
        for name, instance_id in (("running", running), ("finished", done)):
            enterprise.goto(f"{live_server.url}/applications/{instance_id}")
            expect(enterprise.locator('.pf-diagram[data-ready="1"]')).to_be_visible()
            enterprise.screenshot(
                path=str(screenshots / f"tracker-{name}-{language}-{screen}.png"), full_page=True
            )
            assert not wider_than_the_screen(enterprise)
            if screen == "phone":
                # 当前进度 first, then the diagram
                top = enterprise.locator("#live-now").bounding_box()
                diagram = enterprise.locator(".pf-diagram").bounding_box()
                assert top and diagram and top["y"] < diagram["y"]
        granted = enterprise.locator("#granted")
        expect(granted).to_contain_text("1,000,000")
        expect(enterprise.locator("#outcome")).to_have_attribute("data-result", "approved")
    finally:
        enterprise.context.close()


def test_the_phone_diagram_opens_on_the_current_step_and_zooms(
    chromium: Browser, live_server: LiveServer
) -> None:
    running = start(live_server.db)
    complete(live_server.db, running, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    phone = signed_in_as(chromium, live_server, "xinghe", "zh", "phone")
    desktop = signed_in_as(chromium, live_server, "xinghe", "zh", "desktop")
    try:
        zooms = {}
        for name, page in (("phone", phone), ("desktop", desktop)):
            page.goto(f"{live_server.url}/applications/{running}")
            expect(page.locator('.pf-diagram[data-ready="1"]')).to_be_visible()
            step = page.locator('.pf-diagram [data-element-id="director_review"]').bounding_box()
            frame = page.locator(".pf-diagram").bounding_box()
            assert step and frame
            # the current step is in view, in the middle third of the diagram's width
            middle = step["x"] + step["width"] / 2
            assert frame["x"] <= middle <= frame["x"] + frame["width"]
            zooms[name] = step["width"]
            if name == "phone":
                assert abs(middle - (frame["x"] + frame["width"] / 2)) < frame["width"] / 6
        # the phone shows the step larger than the whole procedure fitted in its width would
        assert zooms["phone"] > zooms["desktop"] * 390 / 1366
        before = zooms["phone"]
        phone.get_by_role("button", name="放大").click()
        bigger = phone.locator('.pf-diagram [data-element-id="director_review"]').bounding_box()
        assert bigger and bigger["width"] > before
    finally:
        phone.context.close()
        desktop.context.close()


def test_what_the_reader_is_typing_waits_until_they_are_done(
    chromium: Browser, live_server: LiveServer
) -> None:
    done = completed_application(live_server.db)
    enterprise = signed_in_as(chromium, live_server, "xinghe", "zh", "desktop")
    try:
        enterprise.goto(f"{live_server.url}/applications/{done}")
        comment = enterprise.locator("#rating-comment")
        comment.fill("办理很快")
        # meanwhile the rating is given elsewhere (another tab, a colleague)
        rate_application(
            live_server.db, instance_id=done, grade=5, comment="非常好", actor="xinghe"
        )
        enterprise.wait_for_timeout(SEEN_WITHIN_MS)
        expect(comment).to_have_value("办理很快")  # the form being typed in stays
        comment.fill("")
        comment.blur()
        # once the reader let go, the page takes the change in
        expect(enterprise.locator("#live-rating")).to_contain_text("非常好", timeout=SEEN_WITHIN_MS)
        expect(enterprise.locator("#rating-comment")).to_have_count(0)
    finally:
        enterprise.context.close()
