"""The administrator makes 初审 a 会签 in the modeler's properties panel and deploys it.

In Chromium: the "Approval mode" group of a user task picks 会签; the diagram then carries
``camunda:properties`` ``approvalMode=all``, deploys as version 2, and an application of it
waits for every member of the task's group, each with a task of their own; the task and
application pages say how many signed. Screenshots in English and Chinese go to
test-artifacts/screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.e2e.admin_helpers import WAIT_MS, Server, running_server, screenshot, sign_in
from tests.webapp.fixtures import load_instance, start
from webapp.models import HumanTask, ProcessDefinition

TASK = "preliminary_review"
MODE_OF = """(id) => {
  const bo = window.Parkflow.modeler.get("elementRegistry").get(id).businessObject;
  const ext = bo.extensionElements ? bo.extensionElements.values : [];
  const props = ext.find((e) => e.$type === "camunda:Properties");
  const found = props ? props.values.find((p) => p.name === "approvalMode") : null;
  return found ? found.value : null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("approval-e2e")) as found:
        yield found


def tab(server: Server, browser: Browser, username: str, locale: str) -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    sign_in(page, server, username, locale=locale)
    return page


def open_task_panel(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/admin/processes/policy_subsidy/edit")
    page.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    page.locator(f'#pf-canvas [data-element-id="{TASK}"]').click()
    group = page.locator('#pf-properties [data-group-id="group-approvalModeGroup"]')
    if group.locator(".bio-properties-panel-group-entries.open").count() == 0:
        group.locator(".bio-properties-panel-group-header").click()


def test_the_admin_picks_countersign_and_deploys(server: Server, chromium: Browser) -> None:
    admin = tab(server, chromium, "admin", "en")
    open_task_panel(admin, server)
    mode = admin.locator("#pf-properties").get_by_label("Approval mode", exact=True)
    expect(mode).to_have_value("")
    mode.select_option(label="Countersign: everyone (会签)")
    admin.wait_for_function(f"() => ({MODE_OF})('{TASK}') === 'all'")
    # 会签 asks what a rejection does
    policy = admin.locator("#pf-properties").get_by_label("When someone rejects", exact=True)
    expect(policy).to_have_value("immediate")
    # the signers stay the task's group's members unless a variable names them
    signers = admin.locator("#pf-properties").get_by_label("Signers from a variable", exact=True)
    expect(signers).to_have_value("")
    screenshot(admin, "approval-mode-en")
    admin.click("#pf-deploy")
    expect(admin.locator("#pf-status")).to_contain_text("Version 2 of")
    with server.db.read() as session:
        latest = session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.key == "policy_subsidy")
            .order_by(ProcessDefinition.version.desc())
        ).first()
        assert latest is not None and latest.version == 2
        assert 'name="approvalMode" value="all"' in latest.bpmn_xml
    admin.close()

    # the Chinese panel shows the choice in Chinese; a share appears only for 按比例通过
    chinese = tab(server, chromium, "admin", "zh_CN")
    open_task_panel(chinese, server)
    panel = chinese.locator("#pf-properties")
    mode = panel.get_by_label("审批方式", exact=True)
    expect(mode.locator("option:checked")).to_have_text("会签（须所有人同意）")
    expect(panel.get_by_label("通过比例", exact=True)).to_have_count(0)
    mode.select_option(label="按比例通过")
    expect(panel.get_by_label("通过比例", exact=True)).to_have_value("0.6")
    chinese.wait_for_function(f"() => ({MODE_OF})('{TASK}') === 'ratio:0.6'")
    screenshot(chinese, "approval-mode-zh")
    chinese.close()

    # an application of version 2 waits for the group's one member, in a task of their own
    instance_id = start(server.db)
    assert load_instance(server.db, instance_id).definition.version == 2
    with server.db.read() as session:
        (task,) = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open"
            )
        ).all()
        assert (task.element_id, task.assignee, task.candidate_users) == (
            TASK,
            "zhang.wei",
            ["zhang.wei"],
        )
        task_id = task.id
    for locale, text in (("zh_CN", "会签 0/1 已同意"), ("en", "Countersign 0/1 approved")):
        reviewer = tab(server, chromium, "zhang.wei", locale)
        reviewer.goto(f"{server.url}/tasks/{task_id}")
        expect(reviewer.locator(".chip-approval").first).to_have_text(text)
        screenshot(reviewer, f"approval-task-{locale}")
        reviewer.goto(f"{server.url}/applications/{instance_id}")
        expect(reviewer.locator(".chip-approval").first).to_have_text(text)
        screenshot(reviewer, f"approval-application-{locale}")
        reviewer.close()
