"""A policy officer edits a decision table in the browser (dmn-js) and deploys it.

In Chromium: the administrator opens subsidy_eligibility, breaks a cell and sees the engine's
check name its rule, then raises tier A's amount in the table and deploys: policy_subsidy
gets version 2, whose decision task decides with the edited rule, while an application
started before keeps version 1 and its amount.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.admin_helpers import WAIT_MS, Server, running_server, screenshot, sign_in
from tests.e2e.conftest import unlabelled
from tests.webapp.fixtures import complete, load_instance, start

AMOUNT = '#pf-dmn td[data-element-id="LiteralExpression_rd_a_amount"]'
SPEND = '#pf-dmn td[data-element-id="UnaryTests_rd_a_spend"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Parkflow serving the demo park from a fresh SQLite database."""
    with running_server(tmp_path_factory.mktemp("decisions-e2e")) as found:
        yield found


def admin_tab(server: Server, browser: Browser, locale: str) -> Page:
    tab = browser.new_page(viewport={"width": 1440, "height": 1000})
    tab.set_default_timeout(WAIT_MS)
    sign_in(tab, server, "admin", locale=locale)
    return tab


def edit_cell(tab: Page, selector: str, text: str) -> None:
    cell = tab.locator(selector)
    cell.click()
    tab.keyboard.press("Control+A")
    tab.keyboard.type(text)
    tab.locator("#pf-dmn .decision-table-name").click()  # leave the cell


def test_a_table_edited_in_the_browser_is_deployed_and_decides(
    server: Server, chromium: Browser
) -> None:
    earlier = start(server.db)
    tab = admin_tab(server, chromium, "en")
    failures: list[str] = []
    tab.on("pageerror", lambda error: failures.append(str(error)))
    tab.goto(f"{server.url}/admin/decisions")
    row = tab.locator('#decisions tr[data-decision-id="subsidy_eligibility"]')
    expect(row).to_contain_text("policy_subsidy")
    screenshot(tab, "decisions")
    row.get_by_role("link", name="Edit").click()
    tab.wait_for_selector('#pf-admin-decision[data-ready="true"]')
    expect(tab.locator(AMOUNT)).to_have_text("1000000")

    # a cell the engine cannot read: the check names its rule and line
    edit_cell(tab, SPEND, "? >=== 10000000")
    tab.click("#pf-validate")
    expect(tab.locator("#pf-status")).to_have_attribute("data-kind", "error")
    expect(tab.locator('#pf-problem-list li[data-element-id="Rule_rd_tier_a"]')).to_contain_text(
        "syntax error"
    )
    edit_cell(tab, SPEND, "? >= 10000000 and ? >= revenue * 0.05")

    edit_cell(tab, AMOUNT, "1200000")
    tab.click("#pf-validate")
    expect(tab.locator("#pf-status")).to_contain_text("No problems")
    tab.click("#pf-deploy")
    expect(tab.locator("#pf-status")).to_contain_text("v2")
    assert unlabelled(tab) == []
    screenshot(tab, "decision-deployed")

    later = start(server.db)
    assert load_instance(server.db, later).definition.version == 2
    for instance_id in (earlier, later):
        complete(
            server.db,
            instance_id,
            "preliminary_review",
            {"outcome": "approve", "comment": "同意"},
            "zhang.wei",
        )
    assert load_instance(server.db, earlier).data_summary["amount"] == 1000000
    assert load_instance(server.db, later).data_summary["amount"] == 1200000

    tab.goto(f"{server.url}/admin/decisions")
    expect(tab.locator('#decisions tr[data-decision-id="subsidy_eligibility"]')).to_contain_text(
        "2 versions"
    )
    assert failures == []
    tab.close()


def test_the_table_editor_speaks_chinese(server: Server, chromium: Browser) -> None:
    tab = admin_tab(server, chromium, "zh_CN")
    tab.goto(f"{server.url}/admin/decisions/new")
    tab.wait_for_selector('#pf-admin-decision[data-ready="true"]')
    expect(tab.locator("h1")).to_have_text("新建决策表")
    expect(tab.locator("#pf-validate")).to_have_text("校验")
    expect(tab.locator('.admin-tabs a[aria-current="page"]')).to_have_text("决策表")
    tab.click("#pf-deploy")
    expect(tab.locator("#pf-status")).to_contain_text("目前没有流程调用它")
    screenshot(tab, "zh-decision-new")
    # an edit not deployed: leaving asks first
    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    tab.on("dialog", answer)
    edit_cell(tab, '#pf-dmn td[data-element-id^="LiteralExpression_"]', '"好"')
    tab.goto(f"{server.url}/admin/decisions")
    assert dialogs == ["beforeunload"]
    expect(tab.locator("#decisions tbody tr")).to_have_count(2)
    expect(tab.locator("#decisions")).to_contain_text("已保存，尚未随流程发布")
    tab.close()
