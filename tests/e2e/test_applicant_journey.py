"""The applicant's side in a real browser, in both languages: 我的申请 offers 催办 and 撤回
(each asked once more) or says why not; the reviewer sees the 催办 mark; a leader the
application was copied to finds it unread under 抄送我, reads it, and it is marked read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page

from tests.e2e.conftest import SIGNED_IN_TIMEOUT_MS, LiveServer, unlabelled
from tests.webapp.fixtures import complete, load_instance, start
from webapp.demo import PASSWORD
from webapp.services.copies import copy_application

LANGUAGES = {"zh": "zh-CN", "en": "en"}
WORDS = {
    "zh": {
        "urge": "催办",
        "withdraw": "撤回",
        "acted": "已有审核人员办理",
        "cc": "抄送我",
        "unread": "未读",
    },
    "en": {
        "urge": "Urge",
        "withdraw": "Withdraw",
        "acted": "has already been handled",
        "cc": "Copied to me",
        "unread": "Unread",
    },
}


def _signed_in(chromium: Browser, server: LiveServer, username: str, language: str) -> Page:
    context = chromium.new_context(
        locale=LANGUAGES[language], viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("input[type=password]").first.press("Enter")
    page.wait_for_url(re.compile(r"/(inbox|applications)$"))
    return page


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_urge_withdraw_and_a_copy_read(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str
) -> None:
    words = WORDS[language]
    fresh = start(live_server.db)
    handled = start(live_server.db)
    complete(live_server.db, handled, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    copy_application(
        live_server.db, instance_id=handled, actor="zhang.wei", usernames=["wang.qiang"]
    )
    reference = load_instance(live_server.db, fresh).reference

    enterprise = _signed_in(chromium, live_server, "xinghe", language)
    enterprise.goto(f"{live_server.url}/applications")
    urge = enterprise.locator(f'form[action="/applications/{fresh}/urge"] button')
    withdraw = enterprise.locator(f'form[action="/applications/{fresh}/withdraw"] button')
    assert urge.inner_text().startswith(words["urge"])
    assert withdraw.inner_text().startswith(words["withdraw"])
    assert words["acted"] in enterprise.locator('[data-refused="withdraw"]').inner_text()
    assert unlabelled(enterprise) == []
    enterprise.screenshot(path=str(screenshots / f"my-applications-{language}.png"), full_page=True)

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    enterprise.once("dialog", accept)
    urge.click()
    enterprise.wait_for_selector(".flash-success")
    assert reference in asked[0]
    assert enterprise.locator(f'form[action="/applications/{fresh}/urge"]').count() == 0

    reviewer = _signed_in(chromium, live_server, "zhang.wei", language)
    reviewer.goto(f"{live_server.url}/inbox")
    assert reviewer.locator('[data-urged="1"]').count() == 1
    reviewer.screenshot(path=str(screenshots / f"inbox-urged-{language}.png"), full_page=True)
    reviewer.locator('[data-urged="1"]').locator("xpath=ancestor::tr//a").click()
    reviewer.locator('button[data-phrase="材料齐全，同意。"]').click()
    assert reviewer.locator("#f-comment").input_value() == "材料齐全，同意。"
    assert reviewer.locator("#urged").count() == 1
    assert unlabelled(reviewer) == []
    reviewer.screenshot(path=str(screenshots / f"task-phrases-{language}.png"), full_page=True)

    enterprise.once("dialog", lambda dialog: dialog.dismiss())
    enterprise.locator(f'form[action="/applications/{fresh}/withdraw"] button').click()
    assert load_instance(live_server.db, fresh).status == "active"
    enterprise.once("dialog", accept)
    enterprise.locator(f'form[action="/applications/{fresh}/withdraw"] button').click()
    enterprise.wait_for_selector(".flash-success")
    assert load_instance(live_server.db, fresh).result == "withdrawn"

    leader = _signed_in(chromium, live_server, "wang.qiang", language)
    leader.goto(f"{live_server.url}/inbox/cc")
    assert leader.locator('.inbox-tabs a[aria-current="page"]').inner_text().startswith(words["cc"])
    assert leader.locator("tr.row-unread").count() == 1
    assert words["unread"] in leader.locator("tr.row-unread").inner_text()
    leader.screenshot(path=str(screenshots / f"inbox-cc-{language}.png"), full_page=True)
    leader.locator(f'a[href="/applications/{handled}"]').click()
    leader.wait_for_url(re.compile(f"/applications/{handled}$"))
    leader.goto(f"{live_server.url}/inbox/cc")
    assert leader.locator("tr.row-unread").count() == 0
    for page in (enterprise, reviewer, leader):
        page.context.close()
