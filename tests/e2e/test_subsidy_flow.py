"""A policy subsidy from application to rating, in a real browser, in Chinese and in English.

星河科技 applies with a PDF; 张伟 returns it with two reasons; the enterprise sees both and
corrects; 张伟 approves, 李娜 (部门负责人) approves; the public notice passes (the clock is
moved for the timer); 赵敏 (财务部) confirms the handover; the enterprise sees the
application completed and rates it. Every page is photographed on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from tests.e2e.conftest import LiveServer, unlabelled
from tests.e2e.pdf import make_pdf
from tests.webapp.fixtures import start
from webapp.demo import PASSWORD
from webapp.models import Instance, Job
from webapp.services.applications import fire_timers
from webapp.worker import Worker

REASONS = ["Missing the 2025 R&D expense audit report", "Business licence copy is not stamped"]
TIMEOUT_MS = 15_000
STEPS = ["提交申请", "初审", "补正材料", "初审", "资格与金额核定", "复核", "公示5个工作日",
         "拨付确认", "已办结"]


@dataclass(frozen=True)
class Words:
    """What the pages say in one language."""

    locale: str
    apply: str
    submit: str
    claim: str
    answer: str
    granted: str
    rate: str
    grade: str
    inbox: str
    returned: str


WORDS = {
    "zh": Words("zh-CN", "申请", "提交", "认领", "去办理", "已批准", "提交评价", "非常满意",
                "待办", "退回补正"),
    "en": Words("en", "Apply", "Submit", "Claim", "Answer", "Granted", "Send rating",
                "Very satisfied", "Inbox", "Returned for correction"),
}


class Journey:
    """One language's walk through the pages, photographing each."""

    def __init__(self, chromium: Browser, server: LiveServer, shots: Path, language: str):
        self.chromium = chromium
        self.server = server
        self.shots = shots
        self.language = language
        self.words = WORDS[language]
        self.count = 0
        self.contexts: list[BrowserContext] = []

    def sign_in(self, username: str) -> Page:
        """A new browser session (asking for Chinese), signed in from the keyboard alone."""
        context = self.chromium.new_context(locale="zh-CN", viewport={"width": 1366,
                                                                      "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.goto(f"{self.server.url}/login")
        if self.language == "en":
            page.get_by_role("button", name="English").click()
        self.check(page, "login")
        assert page.evaluate("document.activeElement.id") == "username"
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "password"
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/(inbox|applications)$"))
        return page

    def check(self, page: Page, name: str) -> None:
        """Photograph the page and check that every field on it is labelled."""
        page.wait_for_load_state("networkidle")
        if page.locator(".pf-diagram").count():
            page.wait_for_selector(".pf-diagram .djs-element", state="attached")
        self.count += 1
        page.screenshot(path=str(self.shots / f"{self.language}-{self.count:02d}-{name}.png"),
                        full_page=True)
        assert unlabelled(page) == [], name

    def open_task(self, page: Page, reference: str, who: str) -> None:
        """Go through the inbox to the task of an application."""
        page.locator("nav.mainnav").get_by_role("link", name=self.words.inbox, exact=True).click()
        self.check(page, f"inbox-{who}")
        page.get_by_role("link", name=reference).click()
        page.wait_for_url(re.compile(r"/tasks/"))

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def test_keyboard_alone_signs_in(chromium: Browser, live_server: LiveServer) -> None:
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.evaluate("document.activeElement.blur()")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("zhang.wei")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("heading", name="待办")).to_be_visible()
    context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_subsidy_from_application_to_rating(chromium: Browser, live_server: LiveServer,
                                              screenshots: Path, tmp_path: Path,
                                              language: str) -> None:
    journey = Journey(chromium, live_server, screenshots, language)
    words = journey.words
    try:
        enterprise = journey.sign_in("xinghe")
        journey.check(enterprise, "applications")
        reference = apply_for_subsidy(journey, enterprise, tmp_path)

        reviewer = journey.sign_in("zhang.wei")
        journey.open_task(reviewer, reference, "reviewer")
        expect(reviewer.locator('.pf-diagram [data-element-id="preliminary_review"]')
               ).to_have_class(re.compile("pf-current"))
        reviewer.get_by_role("button", name=words.claim).click()
        journey.check(reviewer, "task-review")
        reviewer.get_by_label("退回补正").check()
        reviewer.get_by_label("补正事项").fill("\n".join(REASONS))
        reviewer.get_by_role("button", name=words.submit, exact=True).click()
        reviewer.wait_for_url(re.compile(r"/inbox$"))
        Worker(live_server.db, worker_id="e2e").run_until_idle()

        enterprise.goto(f"{live_server.url}/applications")
        journey.check(enterprise, "applications-returned")
        enterprise.get_by_role("link", name=reference).click()
        latest = enterprise.locator("#latest-reasons li")
        expect(latest).to_have_text(REASONS)
        journey.check(enterprise, "application-returned")
        enterprise.get_by_role("link", name=re.compile(words.answer)).click()
        expect(enterprise.locator(".card-form .value-list li")).to_have_text(REASONS)
        enterprise.get_by_label("补正说明").fill("Both items are attached, stamped.")
        enterprise.set_input_files("#f-attachments-upload", files=[{
            "name": "audit-report.pdf", "mimeType": "application/pdf",
            "buffer": make_pdf("R&D expense audit report 2025")}])
        journey.check(enterprise, "task-correction")
        enterprise.get_by_role("button", name=words.submit, exact=True).click()
        enterprise.wait_for_url(re.compile(r"/applications/[0-9a-f-]{36}$"))

        decide(journey, reviewer, reference, "通过", "reviewer")
        director = journey.sign_in("li.na")
        decide(journey, director, reference, "批准", "director")
        pass_public_notice(live_server, reference)

        finance = journey.sign_in("zhao.min")
        journey.open_task(finance, reference, "finance")
        finance.get_by_label("预算科目").fill("科技创新专项资金")
        finance.get_by_label("计划拨付日期").fill("2026-12-20")
        journey.check(finance, "task-handover")
        finance.get_by_role("button", name=words.submit, exact=True).click()
        finance.wait_for_url(re.compile(r"/inbox$"))
        Worker(live_server.db, worker_id="e2e").run_until_idle()

        enterprise.goto(f"{live_server.url}/applications")
        enterprise.get_by_role("link", name=reference).click()
        expect(enterprise.locator("h1 .chip")).to_have_text(words.granted)
        expect(enterprise.locator(".timeline .step-name")).to_have_text(STEPS)
        journey.check(enterprise, "application-completed")
        enterprise.locator("#grade-5").check()  # the overall grade, not a dimension's
        enterprise.locator("#rating-comment").fill("Fast and clear.")
        enterprise.get_by_role("button", name=words.rate).click()
        expect(enterprise.locator(".grade-chip")).to_have_text(words.grade)
        journey.check(enterprise, "application-rated")
        enterprise.goto(f"{live_server.url}/notifications")
        expect(enterprise.locator(".notification").first).to_be_visible()
        journey.check(enterprise, "notifications")
    finally:
        journey.close()


def apply_for_subsidy(journey: Journey, page: Page, tmp_path: Path) -> str:
    """Fill in the application form (first forgetting the commitment); the reference."""
    page.get_by_role("link", name=re.compile(f"^{journey.words.apply}.*政策扶持资金申请")).click()
    # the enterprise's name comes from its record: shown, not typed
    expect(page.get_by_role("group", name="企业名称")).to_contain_text("星河科技有限公司")
    page.get_by_label("统一社会信用代码").fill("91320594MA1W2X3Y4K")
    page.get_by_label("高新技术企业", exact=True).check()
    page.get_by_label("研发投入补助", exact=True).check()
    page.get_by_label("申请金额（元）").fill("800000")
    page.get_by_label("上年度研发投入（元）").fill("12000000")
    page.get_by_label("上年度营业收入（元）").fill("200000000")
    page.get_by_label("参保职工人数").fill("120")
    page.get_by_label("联系人").fill("李娜")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_label("项目简介").fill("Smart sensing R&D project.")
    licence = tmp_path / "business-licence.pdf"
    licence.write_bytes(make_pdf("Business licence"))
    page.set_input_files("#f-attachments-upload", str(licence))
    journey.check(page, "apply")
    page.get_by_role("button", name=re.compile(journey.words.submit)).first.click()
    expect(page.locator("#f-commitment-error")).to_be_visible()
    expect(page.get_by_label("business-licence.pdf")).to_be_checked()
    journey.check(page, "apply-errors")
    page.get_by_label("信用承诺").check()
    page.get_by_role("button", name=re.compile(journey.words.submit)).first.click()
    page.wait_for_url(re.compile(r"/applications/[0-9a-f-]{36}$"))
    journey.check(page, "application-submitted")
    reference = page.locator(".eyebrow").first.inner_text().strip()
    assert re.fullmatch(r"DEMO-\d{4}-\d{6}", reference)
    return reference


def decide(journey: Journey, page: Page, reference: str, outcome: str, who: str) -> None:
    """Open the application's task from the inbox and approve it."""
    journey.open_task(page, reference, who)
    page.get_by_label(outcome, exact=True).check()
    journey.check(page, f"task-{who}")
    page.get_by_role("button", name=journey.words.submit, exact=True).click()
    page.wait_for_url(re.compile(r"/inbox$"))


def pass_public_notice(server: LiveServer, reference: str) -> None:
    """Let the five working days of public notice pass for this application."""
    with server.db.read() as session:
        instance_id, due = session.execute(
            select(Instance.id, Job.due_at).join(Job, Job.instance_id == Instance.id)
            .where(Instance.reference == reference, Job.kind == "timer",
                   Job.status == "pending")).one()
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        fire_timers(server.db, instance_id=instance_id)


def test_the_pages_fit_a_phone(chromium: Browser, live_server: LiveServer,
                               screenshots: Path) -> None:
    instance_id = start(live_server.db)
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                   device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        for username, path, name in (
                ("xinghe", "/applications", "applications"),
                ("xinghe", f"/applications/{instance_id}", "application"),
                ("xinghe", "/applications/new/policy_subsidy", "apply"),
                ("zhang.wei", "/inbox", "inbox")):
            page = context.new_page()
            page.goto(f"{live_server.url}/login")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")
            page.wait_for_url(re.compile(r"/(inbox|applications)$"))
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(screenshots / f"phone-{name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
            context.clear_cookies()
            page.close()
    finally:
        context.close()
