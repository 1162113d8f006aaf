"""The park administrator edits a procedure in the browser modeler and deploys a new version.

In Chromium: the administrator opens policy_subsidy, adds a user task and sets its candidate
group and due date in the properties panel, sees a dangling sequence flow marked on the
diagram when validating, fixes it and deploys version 2. Applications started before keep
version 1; new ones run version 2. Then a diagram exported from the desktop Camunda Modeler is
opened from a file, validated, deployed and run. Screenshots go to test-artifacts/screenshots.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from tests.e2e.admin_helpers import WAIT_MS, Server, running_server, screenshot, sign_in
from tests.e2e.conftest import unlabelled
from tests.webapp.fixtures import complete, load_instance, open_tasks, start
from webapp.models import ProcessDefinition

DATA = Path(__file__).resolve().parents[1] / "webapp" / "admin" / "data"
EXPORT = DATA / "camunda_modeler_export.bpmn"
NEW_TASK_NAME = "材料受理"
NEW_TASK_GROUP = "招商服务部"
NEW_TASK_DUE = "2WD"
DONE = re.compile(r"^(success|error)$")

# Make room after the merge gateway, put a user task there and route the review's incoming
# flow through it: shapes are placed with the modeler's API (dragging is impractical); what
# the task means is set through the properties panel below.
ADD_TASK = """() => {
  const m = window.Parkflow.modeler;
  const registry = m.get("elementRegistry"), modeling = m.get("modeling");
  const gateway = registry.get("Gateway_review_merge");
  const review = registry.get("preliminary_review");
  const start = gateway.x + gateway.width + 5;
  const spaceTool = m.get("spaceTool");
  const shapes = registry.filter((e) => !e.waypoints && e.parent);
  const labels = registry.filter((e) => e.type === "label" && e.x > start)
    .map((label) => [label, label.x]);
  const room = spaceTool.calculateAdjustments(shapes, "x", 150, start);
  spaceTool.makeSpace(room.movingShapes, room.resizingShapes, { x: 150, y: 0 }, "e", start);
  // labels of flows whose ends both moved stay behind: take them along
  for (const [label, x] of labels) {
    if (label.x === x) {
      modeling.moveShape(label, { x: 150, y: 0 });
    }
  }
  const participant = registry.get("Participant_policy_subsidy");
  const task = modeling.createShape({ type: "bpmn:UserTask" },
    { x: start + 75, y: gateway.y + gateway.height / 2 }, participant);
  modeling.reconnectEnd(registry.get("Flow_to_preliminary"), task,
    { x: task.x, y: task.y + task.height / 2 });
  const flow = modeling.connect(task, review);
  return { task: task.id, flow: flow.id };
}"""
# The new flow loses its target, as when the element it pointed at is deleted in the XML.
DETACH_TARGET = """(flowId) => {
  const m = window.Parkflow.modeler;
  const registry = m.get("elementRegistry"), modeling = m.get("modeling");
  const flow = registry.get(flowId), review = registry.get("preliminary_review");
  const incoming = review.businessObject.incoming.filter((f) => f !== flow.businessObject);
  modeling.updateModdleProperties(review, review.businessObject, { incoming });
  modeling.updateModdleProperties(flow, flow.businessObject, { targetRef: undefined });
}"""
RECONNECT = """(flowId) => {
  const m = window.Parkflow.modeler;
  const registry = m.get("elementRegistry");
  const flow = registry.get(flowId), review = registry.get("preliminary_review");
  m.get("modeling").reconnectEnd(flow, review, { x: review.x, y: review.y + review.height / 2 });
}"""
# For the screenshot: nothing selected, the diagram zoomed in around one element.
FOCUS = """(elementId) => {
  const m = window.Parkflow.modeler;
  const element = m.get("elementRegistry").get(elementId);
  const points = element.waypoints || [{ x: element.x, y: element.y },
    { x: element.x + element.width, y: element.y + element.height }];
  const x = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const y = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  m.get("selection").select([]);
  const canvas = m.get("canvas");
  canvas.zoom(1.3);
  const box = canvas.viewbox();
  canvas.viewbox({ x: x - box.width / 2, y: y - box.height / 2, width: box.width,
                   height: box.height });
}"""
TASK_ATTRIBUTES = """(taskId) => {
  const bo = window.Parkflow.modeler.get("elementRegistry").get(taskId).businessObject;
  return { name: bo.name, groups: bo.get("camunda:candidateGroups"),
           due: bo.get("camunda:dueDate") };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Parkflow serving the demo park from a fresh SQLite database."""
    with running_server(tmp_path_factory.mktemp("admin-e2e")) as found:
        yield found


@pytest.fixture(scope="module")
def page(server: Server, chromium: Browser) -> Iterator[Page]:
    """A browser tab signed in as the demo park's administrator, in English."""
    tab = admin_tab(server, chromium, "en")
    yield tab
    tab.close()


def admin_tab(server: Server, browser: Browser, locale: str) -> Page:
    tab = browser.new_page(viewport={"width": 1440, "height": 1000})
    tab.set_default_timeout(WAIT_MS)
    sign_in(tab, server, "admin", locale=locale)
    return tab


def open_modeler(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('#pf-admin-modeler[data-ready="true"]')


def panel_group(page: Page, group_id: str) -> None:
    """Open a group of the properties panel (if it is closed)."""
    header = page.locator(f'#pf-properties [data-group-id="{group_id}"] '
                          ".bio-properties-panel-group-header")
    entries = page.locator(f'#pf-properties [data-group-id="{group_id}"] '
                           ".bio-properties-panel-group-entries.open")
    if entries.count() == 0:
        header.click()


def panel_input(page: Page, label: str) -> Locator:
    return page.locator("#pf-properties").get_by_label(label, exact=True)


def validate(page: Page) -> None:
    page.click("#pf-validate")
    expect(page.locator("#pf-status")).to_have_attribute("data-kind", DONE)


def test_the_admin_adds_a_task_in_the_modeler_and_deploys_version_2(server: Server,
                                                                   page: Page) -> None:
    earlier = start(server.db)
    open_modeler(page, f"{server.url}/admin/processes/policy_subsidy/edit")
    ids = page.evaluate(ADD_TASK)

    # the task's name, candidate group and due date go in through the properties panel
    page.locator(f'#pf-canvas [data-element-id="{ids["task"]}"]').click()
    expect(page.locator("#pf-properties .bio-properties-panel-header-type")).to_have_text(
        "User Task", ignore_case=True)
    panel_group(page, "group-general")
    panel_input(page, "Name").fill(NEW_TASK_NAME)
    panel_group(page, "group-CamundaPlatform__UserAssignment")
    panel_input(page, "Candidate groups").fill(NEW_TASK_GROUP)
    panel_input(page, "Due date").fill(NEW_TASK_DUE)
    page.wait_for_function(
        "([id, g, d]) => { const bo = window.Parkflow.modeler.get('elementRegistry')"
        ".get(id).businessObject; return bo.get('camunda:candidateGroups') === g"
        " && bo.get('camunda:dueDate') === d; }",
        arg=[ids["task"], NEW_TASK_GROUP, NEW_TASK_DUE])
    assert page.evaluate(TASK_ATTRIBUTES, ids["task"]) == {
        "name": NEW_TASK_NAME, "groups": NEW_TASK_GROUP, "due": NEW_TASK_DUE}

    # a flow whose target is gone: the list names it, the diagram marks it
    page.evaluate(DETACH_TARGET, ids["flow"])
    validate(page)
    problems = page.locator(f'#pf-problem-list li[data-element-id="{ids["flow"]}"]')
    expect(problems.filter(has_text="has no targetRef")).to_have_count(1)
    badge = page.locator(f'.djs-overlays[data-container-id="{ids["flow"]}"] .pf-problem-marker')
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("title", re.compile("sequence flow has no targetRef"))
    expect(page.locator("#pf-status")).to_have_attribute("data-kind", "error")
    page.evaluate(FOCUS, ids["flow"])
    screenshot(page, "modeler-problems")

    # deploying the broken diagram is refused with the same problems
    page.click("#pf-deploy")
    expect(page.locator("#pf-status")).to_contain_text("Nothing was deployed")
    assert _versions(server, "policy_subsidy") == [1]

    page.evaluate(RECONNECT, ids["flow"])
    validate(page)
    expect(page.locator("#pf-status")).to_contain_text("No problems")
    expect(page.locator(".pf-problem-marker")).to_have_count(0)
    expect(page.locator("#pf-problems")).to_be_hidden()

    page.click("#pf-deploy")
    expect(page.locator("#pf-status")).to_contain_text("Version 2 of")
    page.evaluate(FOCUS, ids["task"])
    screenshot(page, "modeler-deployed")
    with page.expect_download() as xml_download:
        page.click("#pf-download-xml")
    assert xml_download.value.suggested_filename == "policy_subsidy.bpmn"
    saved = Path(xml_download.value.path()).read_text(encoding="utf-8")
    assert f'camunda:candidateGroups="{NEW_TASK_GROUP}"' in saved
    with page.expect_download() as svg_download:
        page.click("#pf-download-svg")
    assert svg_download.value.suggested_filename == "policy_subsidy.svg"
    assert NEW_TASK_NAME in Path(svg_download.value.path()).read_text(encoding="utf-8")
    assert _versions(server, "policy_subsidy") == [1, 2]

    later = start(server.db)
    assert load_instance(server.db, earlier).definition.version == 1
    assert set(open_tasks(server.db, earlier)) == {"preliminary_review"}
    assert load_instance(server.db, later).definition.version == 2
    task = open_tasks(server.db, later)[ids["task"]]
    assert (task.name, task.candidate_groups) == (NEW_TASK_NAME, [NEW_TASK_GROUP])
    assert task.due_at is not None
    # the earlier application goes on along version 1
    complete(server.db, earlier, "preliminary_review",
             {"outcome": "reject", "comment": "不符合申报条件"}, "zhang.wei")
    assert load_instance(server.db, earlier).status == "completed"

    page.goto(f"{server.url}/admin/processes")
    row = page.locator('#procedures tr[data-key="policy_subsidy"]')
    expect(row).to_contain_text("v2")
    expect(row.locator(".running")).to_have_text("1")
    screenshot(page, "processes")
    page.goto(f"{server.url}/admin/processes/policy_subsidy/compare?from=1&to=2")
    expect(page.locator(f'#element-changes tr.diff-added[data-element-id="{ids["task"]}"]'))\
        .to_contain_text(NEW_TASK_NAME)
    expect(page.locator('#element-changes tr.diff-changed[data-element-id="Flow_to_preliminary"]'))\
        .to_contain_text("targetRef")
    screenshot(page, "compare")


def test_a_camunda_modeler_export_opens_validates_deploys_and_runs(server: Server,
                                                                  page: Page) -> None:
    # its task form first, written in the form editor with the live preview
    page.goto(f"{server.url}/admin/forms/new")
    page.fill("#f-key", "visitor_permit_review")
    page.fill("#f-schema", (DATA / "visitor_permit_review.json").read_text(encoding="utf-8"))
    expect(page.locator("#preview")).to_contain_text("同意发放通行证")
    screenshot(page, "form-editor")
    page.click("form button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("visitor_permit_review")

    open_modeler(page, f"{server.url}/admin/processes/new")
    page.set_input_files("#pf-upload", str(EXPORT))
    expect(page.locator("#pf-status")).to_contain_text("camunda_modeler_export.bpmn")
    expect(page.locator('#pf-canvas [data-element-id="Activity_security_review"]')).to_be_visible()
    validate(page)
    expect(page.locator("#pf-status")).to_contain_text("No problems")
    page.click("#pf-deploy")
    expect(page.locator("#pf-status")).to_contain_text("Version 1 of")
    screenshot(page, "modeler-upload")

    instance_id = start(server.db, "visitor_permit", {"plate": "沪A12345"})
    task = open_tasks(server.db, instance_id)["Activity_security_review"]
    assert task.candidate_groups == ["招商服务部"] and task.due_at is not None
    complete(server.db, instance_id, "Activity_security_review",
             {"approved": True, "comment": "同意"}, "chen.jie")
    assert load_instance(server.db, instance_id).status == "completed"


def test_every_administration_page_in_chinese(server: Server, chromium: Browser) -> None:
    tab = admin_tab(server, chromium, "zh_CN")
    failures: list[str] = []
    tab.on("pageerror", lambda error: failures.append(str(error)))
    start(server.db)
    for name, path, heading in (
            ("users", "/admin/users", "用户"), ("groups", "/admin/groups", "分组"),
            ("enterprises", "/admin/enterprises", "企业"),
            ("calendar", "/admin/calendar", "工作日历"), ("settings", "/admin/settings", "设置"),
            ("incidents", "/admin/incidents", "故障"), ("forms", "/admin/forms", "表单"),
            ("applications", "/admin/applications", "全部办件")):
        tab.goto(f"{server.url}{path}")
        expect(tab.locator("h1")).to_have_text(heading)
        expect(tab.locator('.admin-tabs a[aria-current="page"]')).to_have_count(1)
        assert unlabelled(tab) == [], path
        screenshot(tab, f"zh-{name}")
    tab.locator("#applications tbody a").first.click()
    expect(tab.locator("article.admin-task").first).to_be_visible()
    tab.locator("article summary").first.click()
    assert unlabelled(tab) == []
    screenshot(tab, "zh-application")
    open_modeler(tab, f"{server.url}/admin/processes/tax_docking/edit")
    expect(tab.locator("#pf-validate")).to_have_text("校验")
    tab.locator('#pf-canvas [data-element-id="tax_review"]').click()
    panel_group(tab, "group-CamundaPlatform__UserAssignment")
    expect(panel_input(tab, "候选组")).to_have_value("税务服务组")
    assert unlabelled(tab) == []
    screenshot(tab, "zh-modeler")
    assert failures == []
    tab.close()


def _versions(server: Server, key: str) -> list[int]:
    with server.db.read() as session:
        return list(session.scalars(select(ProcessDefinition.version).where(
            ProcessDefinition.key == key).order_by(ProcessDefinition.version)))



def test_validate_shows_warnings_and_problems_in_the_administrators_language(
        server: Server, chromium: Browser, tmp_path: Path) -> None:
    tab = admin_tab(server, chromium, "zh_CN")
    open_modeler(tab, f"{server.url}/admin/processes/new")
    tab.set_input_files("#pf-upload", str(DATA / "implicit_end.bpmn"))
    expect(tab.locator('#pf-canvas [data-element-id="check"]')).to_be_visible()
    validate(tab)
    expect(tab.locator("#pf-status")).to_contain_text("没有问题：流程图可以部署。请查看下方的警告。")
    expect(tab.locator("#pf-problems")).to_be_hidden()
    warnings = tab.locator("#pf-warnings")
    expect(warnings).to_be_visible()
    expect(tab.locator("#pf-warnings-title")).to_have_text("警告：流程图可以部署，但请查看以下各项")
    expect(warnings.locator('li[data-element-id="check"]')).to_contain_text(
        "没有泳道、办理人或候选人指明由谁办理此任务")
    # the warning is marked on its element, apart from problems
    expect(tab.locator('.djs-overlay-pf-warning .pf-warning-marker')).to_have_count(2)
    expect(tab.locator(".pf-problem-marker")).to_have_count(0)
    screenshot(tab, "zh-modeler-warnings")

    broken = tmp_path / "unknown_service.bpmn"
    broken.write_text((DATA / "implicit_end.bpmn").read_text(encoding="utf-8").replace(
        '<bpmn:scriptTask id="note" name="Note" scriptFormat="python">',
        '<bpmn:serviceTask id="note" name="Note"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="service" value="fax_machine" /></camunda:properties>'
        "</bpmn:extensionElements>").replace(
        "<bpmn:script>noted = True</bpmn:script>\n    </bpmn:scriptTask>", "</bpmn:serviceTask>"),
        encoding="utf-8")
    tab.set_input_files("#pf-upload", str(broken))
    expect(tab.locator("#pf-warnings")).to_be_hidden()
    validate(tab)
    expect(tab.locator("#pf-status")).to_have_attribute("data-kind", "error")
    expect(tab.locator('#pf-problem-list li[data-element-id="note"]')).to_contain_text(
        "没有登记名为“fax_machine”的服务。已登记的服务：")
    expect(tab.locator("#pf-warnings")).to_be_visible()
    expect(tab.locator("#pf-warnings-title")).to_have_text("警告")
    expect(tab.locator(".pf-problem-marker")).to_have_count(1)
    screenshot(tab, "zh-modeler-problems-and-warnings")
    tab.close()


def test_a_diagram_with_drawn_forms_deploys_and_its_start_form_is_drawn(
        server: Server, page: Page, chromium: Browser) -> None:
    open_modeler(page, f"{server.url}/admin/processes/new")
    page.set_input_files("#pf-upload", str(DATA / "form_data.bpmn"))
    validate(page)
    expect(page.locator("#pf-status")).to_contain_text("No problems")
    page.click("#pf-deploy")
    expect(page.locator("#pf-status")).to_contain_text("Version 1 of")

    tab = chromium.new_page(viewport={"width": 1280, "height": 900})
    tab.set_default_timeout(WAIT_MS)
    sign_in(tab, server, "xinghe", locale="zh_CN")
    tab.goto(f"{server.url}/applications/new/venue_booking")
    form = tab.locator("main form").last
    expect(form.locator('input[name="guests"]')).to_have_value("20")
    expect(form.locator('select[name="room"]')).to_have_value("hall")
    expect(form.locator('input[name="event_date"][type="date"]')).to_have_value("2027-06-01")
    expect(form.locator('input[name="catering"][type="checkbox"]')).not_to_be_checked()
    assert unlabelled(tab) == []
    tab.locator('button.primary[type="submit"]').last.click()
    expect(tab.locator("main")).to_contain_text("此项为必填项")  # the event's name is required
    screenshot(tab, "zh-drawn-start-form")
    tab.fill('input[name="event_name"]', "园区开放日")
    tab.select_option('select[name="room"]', "studio")
    tab.check('input[name="catering"]')
    tab.locator('button.primary[type="submit"]').last.click()
    tab.wait_for_url(re.compile(r"/applications/[^/]+$"))
    tab.close()
