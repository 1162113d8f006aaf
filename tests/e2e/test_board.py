"""The supervision board in a real browser: charts drawn, each step of the heatmap coloured and
labelled, the toggle kept in the address; screenshots in both languages on a desktop and a
390-pixel phone, nothing wider than the screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.board_history import build_board_history, utc_now
from tests.e2e.conftest import SIGNED_IN_TIMEOUT_MS, LiveServer
from webapp.demo import PASSWORD

SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"zh": "zh_CN", "en": "en"}
# the user tasks of the demo park's policy subsidy diagram
SUBSIDY_TASKS = 5


def signed_in(
    chromium: Browser, server: LiveServer, username: str, language: str, screen: str
) -> Page:
    context = chromium.new_context(locale="zh-CN", viewport=SCREENS[screen])
    context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.locator(f'.language button[value="{LANGUAGES[language]}"]').click()
    page.locator("input[name=username]").fill(username)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("input[type=password]").first.press("Enter")
    page.wait_for_url(re.compile(r"/(inbox|applications)$"))
    return page


def wider_than_the_screen(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1"))


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_board_and_its_heatmap(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str, screen: str
) -> None:
    build_board_history(live_server.db, utc_now())
    page = signed_in(chromium, live_server, "admin", language, screen)

    page.goto(f"{live_server.url}/admin/dashboard?process_key=policy_subsidy")
    page.wait_for_selector("#trend-chart[data-rendered=true] svg")
    page.wait_for_selector("#heatmap[data-rendered=true]")

    assert page.locator("#kpis li").count() == 7
    assert page.locator("#trend-chart svg path").count() > 0
    assert page.locator("#heatmap svg").count() > 0
    labels = page.locator("#heatmap .pf-heat-label")
    assert labels.count() == SUBSIDY_TASKS
    days = "工作日" if language == "zh" else "working days"
    assert all(days in text for text in labels.all_inner_texts())
    assert page.locator("#heatmap .djs-element[class*=pf-heat-]").count() == SUBSIDY_TASKS
    assert page.locator("[data-heat-legend] li").count() == 5
    assert not wider_than_the_screen(page)
    page.screenshot(path=str(screenshots / f"board-{language}-{screen}.png"), full_page=True)

    page.get_by_role("button", name="超期占比" if language == "zh" else "Overdue share").click()
    page.wait_for_selector("#heatmap[data-measure=overdue]")
    assert "measure=overdue" in page.url
    overdue = "超期" if language == "zh" else "overdue"
    assert all(overdue in text for text in labels.all_inner_texts())
    page.locator("#heatmap").screenshot(
        path=str(screenshots / f"board-heatmap-overdue-{language}-{screen}.png")
    )
    page.context.close()


def test_the_department_board_of_a_reviewer(
    chromium: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    build_board_history(live_server.db, utc_now())
    page = signed_in(chromium, live_server, "zhang.wei", "zh", "phone")

    page.get_by_role("link", name="部门看板").click()
    page.wait_for_selector("#heatmap[data-rendered=true]")

    assert page.url.endswith("/dashboard")
    assert page.locator("#group-ranking tbody tr").all_inner_texts() == [
        page.locator("#group-ranking tbody tr").first.inner_text()
    ]
    assert "政策审核组" in page.locator("#group-ranking").inner_text()
    assert not wider_than_the_screen(page)
    page.screenshot(path=str(screenshots / "board-department-zh-phone.png"), full_page=True)
    page.context.close()
