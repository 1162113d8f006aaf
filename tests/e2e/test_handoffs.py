"""The task page's hand-off dialogs and the timeline of approval actions, in both languages:
screenshots to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import LiveServer
from tests.e2e.test_screens import LANGUAGES, signed_in_as
from tests.webapp.fixtures import open_tasks, start
from webapp.services import handoffs


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_dialogs_and_timeline(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str
) -> None:
    db = live_server.db
    instance_id = start(db)
    review = open_tasks(db, instance_id)["preliminary_review"].id
    handoffs.transfer_task(
        db, task_id=review, username="chen.jie", actor="zhang.wei", comment="请招商服务部办理"
    )
    handoffs.add_signers(
        db,
        task_id=review,
        usernames=["zhao.min", "li.na"],
        position="before",
        actor="chen.jie",
        comment="请财务和部门负责人会签",
    )
    page = signed_in_as(chromium, live_server, "chen.jie", language, "desktop")

    page.goto(f"{live_server.url}/tasks/{review}")
    page.locator("#dialog-add-signers > summary").click()
    assert page.locator("#dialog-add-signers form").is_visible()
    assert page.locator("#signers li").count() == 2
    page.screenshot(path=screenshots / f"handoffs-dialogs-{language}.png", full_page=True)

    page.locator("#dialog-add-signers > summary").click()
    page.locator("#dialog-transfer > summary").click()
    page.locator("#dialog-transfer input[name=username]").fill("wang.qiang")
    page.locator("#dialog-transfer textarea[name=comment]").fill("转园区领导")
    page.locator("#dialog-transfer button[type=submit]").click()
    page.wait_for_load_state()
    holder = signed_in_as(chromium, live_server, "wang.qiang", language, "desktop")
    holder.goto(f"{live_server.url}/tasks/{review}")
    timeline = holder.locator("section[aria-labelledby=timeline-title]")
    assert timeline.locator(".timeline-action").count() == 3
    timeline.screenshot(path=screenshots / f"handoffs-timeline-{language}.png")
