"""免申即享 in a real browser, in both languages: an administrator writes a policy, the
enterprise fills in its profile and finds the policy waiting with its application filled in,
and opens the form prefilled; the administrator sees whom the policy found."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import SIGNED_IN_TIMEOUT_MS, LiveServer, unlabelled
from webapp.demo import PASSWORD

LANGUAGES = {"zh": "zh-CN", "en": "en"}
TABLE = (Path(__file__).parents[1] / "webapp" / "api" / "data" / "rd_award_eligibility.dmn")
WORDS = {
    "zh": {"save": "保存并匹配", "profile_save": "保存", "confirm": "确认申请",
           "check": "先核对申请表", "found": "等待企业确认"},
    "en": {"save": "Save and match", "profile_save": "Save", "confirm": "Confirm and apply",
           "check": "Check the form first", "found": "Waiting for the enterprise"},
}


def _signed_in(chromium: Browser, server: LiveServer, username: str, language: str,
               width: int = 1366) -> Page:
    context = chromium.new_context(locale=LANGUAGES[language],
                                   viewport={"width": width, "height": 900})
    context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("input[type=password]").first.press("Enter")
    page.wait_for_url(re.compile(r"/(inbox|applications)$"))
    return page


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_policy_finds_the_enterprise_whose_profile_fits(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str
) -> None:
    words = WORDS[language]
    admin = _signed_in(chromium, live_server, "admin", language)
    admin.goto(f"{live_server.url}/admin/policies")
    admin.locator("#p-key").fill("rd-award")
    admin.locator("#p-name").fill("研发投入奖励")
    admin.locator("#p-description").fill("研发投入达标的高新技术企业免申即享。")
    admin.locator("#p-process").select_option("policy_subsidy")
    table = TABLE.read_text().replace('name="amount"', 'name="requested_amount"')
    admin.locator("#p-eligibility").fill(table)
    admin.locator("#p-prefill").fill("rd_spend = rd_spend")
    admin.get_by_role("button", name=words["save"]).click()
    admin.wait_for_url(re.compile(r"/admin/policies/rd-award$"))
    assert unlabelled(admin) == []

    for width, suffix in ((1366, ""), (390, "-phone")):
        enterprise = _signed_in(chromium, live_server, "xinghe", language, width)
        enterprise.goto(f"{live_server.url}/profile")
        enterprise.locator("input[name=industry]").fill("新材料")
        enterprise.locator("select[name=size]").select_option("small")
        enterprise.locator("input[name=employees]").fill("120")
        enterprise.locator("input[name=rd_spend]").fill("600")
        enterprise.locator('input[name=certifications][value="高新技术企业"]').check()
        assert unlabelled(enterprise) == []
        enterprise.screenshot(path=str(screenshots / f"profile-{language}{suffix}.png"),
                              full_page=True)
        enterprise.get_by_role("button", name=words["profile_save"], exact=True).click()
        enterprise.wait_for_url(re.compile(r"/profile$"))
        enterprise.goto(f"{live_server.url}/policies")
        offer = enterprise.locator('[data-policy="rd-award"]')
        assert "200000" in offer.inner_text()
        enterprise.screenshot(path=str(screenshots / f"policies-{language}{suffix}.png"),
                              full_page=True)
        enterprise.context.close()

    enterprise = _signed_in(chromium, live_server, "xinghe", language)
    enterprise.goto(f"{live_server.url}/policies")
    enterprise.get_by_role("button", name=words["check"]).click()
    enterprise.wait_for_url(re.compile(r"/applications/new/policy_subsidy\?draft="))
    assert enterprise.locator("input[name=requested_amount]").input_value().startswith("200000")

    admin.reload()
    row = admin.locator('[data-enterprise="星河科技有限公司"]')
    assert words["found"] in row.inner_text()
    admin.screenshot(path=str(screenshots / f"admin-policies-{language}.png"), full_page=True)
