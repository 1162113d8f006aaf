"""In the browser: moving waiting applications from the versions page, and importing next
year's holiday schedule with its preview (screenshots for a person to look at)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from playwright.sync_api import Browser

from engine import statutory_year_known
from tests.e2e.conftest import LiveServer, signed_in
from tests.webapp.admin.test_holiday_schedules import NOTICE
from tests.webapp.admin.test_migration_page import two_applications, version_of


def test_waiting_applications_move_from_the_versions_page(
    chromium: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    at_intake, at_review = two_applications(live_server.db)
    admin = signed_in(chromium, live_server, "admin")
    admin.goto(f"{live_server.url}/admin/processes")
    admin.get_by_role("link", name="迁移申请", exact=True).click()
    admin.wait_for_url("**/admin/processes/permit/migrate")
    refused = admin.locator(f'tr[data-instance-id="{at_review}"]')
    assert "没有对应元素" in refused.inner_text()
    admin.screenshot(path=str(screenshots / "admin-migrate-check.png"), full_page=True)

    admin.get_by_label("改名元素的对应关系").fill("review = examine")
    admin.get_by_role("button", name="检查").click()
    assert admin.locator(f'tr[data-instance-id="{at_review}"] .chip').inner_text() == "可以迁移"
    admin.get_by_role("button", name="迁移全部可迁移的申请（2 件）").click()
    admin.wait_for_selector(".flash, [role=status], .alert", timeout=10_000)
    admin.screenshot(path=str(screenshots / "admin-migrate-done.png"), full_page=True)
    assert (version_of(live_server.db, at_intake), version_of(live_server.db, at_review)) == (2, 2)
    assert "没有运行在本流程其他版本上的办理中申请" in admin.content()
    # the application's page tells of the move on its timeline
    admin.goto(f"{live_server.url}/applications/{at_review}")
    assert "从版本 1 迁移到版本 2" in admin.content()
    admin.screenshot(path=str(screenshots / "admin-migrated-application.png"), full_page=True)


def test_next_years_holidays_are_previewed_then_saved(
    chromium: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    admin = signed_in(chromium, live_server, "admin")
    coming = date.today().year + 1
    admin.goto(f"{live_server.url}/admin/processes")
    # the admin home warns while the coming year's schedule is unknown (the package's last
    # year is 2026)
    assert admin.locator("#unknown-year").count() == (0 if statutory_year_known(coming) else 1)
    admin.screenshot(path=str(screenshots / "admin-home-unknown-year.png"), full_page=True)
    admin.goto(f"{live_server.url}/admin/calendar")
    admin.locator("#f-year").select_option("2027")
    admin.get_by_label("放假安排的日期").fill(NOTICE)
    admin.get_by_role("button", name="预览").click()
    preview = admin.locator("#schedule-preview")
    assert "尚未保存" in preview.inner_text()
    admin.screenshot(path=str(screenshots / "admin-holidays-preview.png"), full_page=True)
    admin.get_by_role("button", name="保存 2027 年的安排").click()
    admin.wait_for_selector("#holiday-schedules tr[data-year='2027']")
    assert admin.locator("#unknown-year").count() == 0
    admin.screenshot(path=str(screenshots / "admin-holidays-saved.png"), full_page=True)
