"""The modeller's tools in the browser: lint overlays while drawing and the token simulation.

In Chromium: a diagram whose exclusive gateway splits without conditions is opened, and the
lint overlay marks both of its flows with Parkflow's rule, in English and in Chinese; giving
one flow a condition and making the other the default clears them. Then the Simulate toggle
plays a diagram: a token leaves the start event and moves along the flows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.admin_helpers import WAIT_MS, Server, running_server, screenshot, sign_in

SPLIT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  id="Definitions_split" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="lint_split" name="Split" isExecutable="true">
    <bpmn:startEvent id="start" name="Applied">
      <bpmn:outgoing>to_gateway</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="start" targetRef="decide" />
    <bpmn:exclusiveGateway id="decide" name="Large?">
      <bpmn:incoming>to_gateway</bpmn:incoming>
      <bpmn:outgoing>to_large</bpmn:outgoing>
      <bpmn:outgoing>to_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_large" sourceRef="decide" targetRef="large" />
    <bpmn:sequenceFlow id="to_small" sourceRef="decide" targetRef="small" />
    <bpmn:endEvent id="large" name="Large"><bpmn:incoming>to_large</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="small" name="Small"><bpmn:incoming>to_small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="lint_split">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="152" y="182" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="decide_di" bpmnElement="decide" isMarkerVisible="true">
        <dc:Bounds x="245" y="175" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="large_di" bpmnElement="large">
        <dc:Bounds x="402" y="102" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="small_di" bpmnElement="small">
        <dc:Bounds x="402" y="262" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="to_gateway_di" bpmnElement="to_gateway">
        <di:waypoint x="188" y="200" /><di:waypoint x="245" y="200" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="to_large_di" bpmnElement="to_large">
        <di:waypoint x="270" y="175" /><di:waypoint x="270" y="120" />
        <di:waypoint x="402" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="to_small_di" bpmnElement="to_small">
        <di:waypoint x="270" y="225" /><di:waypoint x="270" y="280" />
        <di:waypoint x="402" y="280" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
RULE = "parkflow/gateway-conditions"
# a condition on one flow and the other made the gateway's default, through the modeling API
FIX_GATEWAY = """() => {
  const m = window.Parkflow.modeler;
  const registry = m.get("elementRegistry"), modeling = m.get("modeling");
  const moddle = m.get("moddle");
  const large = registry.get("to_large");
  modeling.updateProperties(large, { conditionExpression: moddle.create(
    "bpmn:FormalExpression", { body: "area > 1000" }) });
  modeling.updateProperties(registry.get("decide"),
    { default: registry.get("to_small").businessObject });
}"""
TOKEN_AT = """() => {
  const token = document.querySelector("#pf-canvas .bts-token");
  return token ? token.getAttribute("transform") : null;
}"""
# true once the first token's place differs from ``before`` (and there is a token)
TOKEN_MOVED = """(before) => {
  const token = document.querySelector("#pf-canvas .bts-token");
  return token !== null && token.getAttribute("transform") !== before;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Parkflow serving the demo park from a fresh SQLite database."""
    with running_server(tmp_path_factory.mktemp("modeler-tools")) as found:
        yield found


def admin_tab(server: Server, browser: Browser, locale: str) -> Page:
    tab = browser.new_page(viewport={"width": 1440, "height": 1000})
    tab.set_default_timeout(WAIT_MS)
    sign_in(tab, server, "admin", locale=locale)
    return tab


def open_diagram(tab: Page, server: Server, path: Path) -> None:
    tab.goto(f"{server.url}/admin/processes/new")
    tab.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    tab.set_input_files("#pf-upload", str(path))
    expect(tab.locator('#pf-canvas [data-element-id="decide"]')).to_be_visible()


def lint_entries(tab: Page, element_id: str, rule: str = RULE):
    return tab.locator(
        f'.djs-overlays[data-container-id="{element_id}"] .bjsl-overlay li[data-rule="{rule}"]'
    )


def test_the_lint_overlay_shows_a_gateway_flow_without_condition(
    server: Server, chromium: Browser, tmp_path: Path
) -> None:
    diagram = tmp_path / "split.bpmn"
    diagram.write_text(SPLIT, encoding="utf-8")
    tab = admin_tab(server, chromium, "en")
    open_diagram(tab, server, diagram)
    for flow in ("to_large", "to_small"):
        expect(lint_entries(tab, flow)).to_have_count(1)
        expect(lint_entries(tab, flow).locator(".message")).to_have_text(
            "A flow out of this gateway needs a condition, or must be its default flow"
        )
    expect(lint_entries(tab, "to_gateway")).to_have_count(0)
    expect(tab.locator(".bjsl-button")).to_contain_text("2 Errors")
    tab.locator('.djs-overlays[data-container-id="to_large"] .bjsl-icon').hover()
    screenshot(tab, "modeler-lint")

    # what lint shows is what deploying refuses
    tab.click("#pf-validate")
    expect(tab.locator('#pf-problem-list li[data-element-id="to_large"]')).to_contain_text(
        "needs a condition"
    )

    tab.evaluate(FIX_GATEWAY)
    expect(lint_entries(tab, "to_large")).to_have_count(0)
    expect(lint_entries(tab, "to_small")).to_have_count(0)
    expect(tab.locator(".bjsl-button")).to_contain_text("0 Errors")
    tab.close()


def test_the_lint_messages_speak_chinese(server: Server, chromium: Browser, tmp_path: Path) -> None:
    diagram = tmp_path / "split.bpmn"
    diagram.write_text(
        SPLIT.replace(
            '<bpmn:endEvent id="large" name="Large"><bpmn:incoming>to_large</bpmn:incoming>',
            '<bpmn:endEvent id="large" name="Large"><bpmn:incoming>to_large</bpmn:incoming>'
            "<bpmn:signalEventDefinition />",
        ),
        encoding="utf-8",
    )
    tab = admin_tab(server, chromium, "zh_CN")
    open_diagram(tab, server, diagram)
    expect(lint_entries(tab, "to_small").locator(".message")).to_have_text(
        "从该网关流出的连线需要条件，或设为网关的默认连线"
    )
    expect(lint_entries(tab, "large", "parkflow/signal-ref").locator(".message")).to_have_text(
        "信号事件须指定信号：请选择或新建一个信号"
    )
    expect(tab.locator(".bjsl-button")).to_contain_text("3 个错误")
    tab.locator('.djs-overlays[data-container-id="large"] .bjsl-icon').hover()
    screenshot(tab, "zh-modeler-lint")
    tab.close()


def test_the_simulation_plays_a_token_along_the_diagram(
    server: Server, chromium: Browser, tmp_path: Path
) -> None:
    diagram = tmp_path / "split.bpmn"
    diagram.write_text(SPLIT, encoding="utf-8")
    tab = admin_tab(server, chromium, "en")
    open_diagram(tab, server, diagram)
    simulate = tab.locator("#pf-simulate")
    simulate.click()
    expect(simulate).to_have_attribute("aria-pressed", "true")
    expect(tab.locator("#pf-deploy")).to_be_disabled()
    expect(tab.locator("#pf-status")).to_contain_text("Simulation")
    # slow the tokens down so the test sees them on the way
    tab.evaluate("() => window.Parkflow.modeler.get('animation').setAnimationSpeed(0.2)")
    tab.locator('.djs-overlays[data-container-id="start"] .bts-context-pad').click()
    tab.wait_for_function(TOKEN_MOVED, arg=None)
    first = tab.evaluate(TOKEN_AT)
    tab.wait_for_function(TOKEN_MOVED, arg=first)
    screenshot(tab, "modeler-simulation")
    simulate.click()
    expect(simulate).to_have_attribute("aria-pressed", "false")
    expect(tab.locator("#pf-deploy")).to_be_enabled()
    tab.close()


RENAME = """(name) => {
  const m = window.Parkflow.modeler;
  const task = m.get("elementRegistry").get("preliminary_review");
  m.get("modeling").updateProperties(task, { name });
}"""
TASK_NAME = """() => window.Parkflow.modeler.get("elementRegistry")
  .get("preliminary_review").businessObject.name"""


def test_a_draft_is_saved_as_you_draw_restored_and_discarded(
    server: Server, chromium: Browser
) -> None:
    tab = admin_tab(server, chromium, "en")
    url = f"{server.url}/admin/processes/policy_subsidy/edit"
    tab.goto(url)
    tab.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    deployed_name = tab.evaluate(TASK_NAME)
    tab.locator('#pf-canvas [data-element-id="preliminary_review"]').click()
    tab.evaluate(RENAME, "初审（草稿）")
    expect(tab.locator("#pf-admin-modeler")).to_have_attribute("data-draft-saved", re.compile("."))
    expect(tab.locator("#pf-draft-state")).to_contain_text("Draft saved at")

    # leaving asks first; staying keeps the page, leaving anyway and coming back restores
    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    tab.on("dialog", answer)
    tab.goto(url)
    assert dialogs == ["beforeunload"]
    tab.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    expect(tab.locator("#pf-draft")).to_be_visible()
    expect(tab.locator("#pf-draft-text")).to_contain_text("draft")
    assert tab.evaluate(TASK_NAME) == "初审（草稿）"
    screenshot(tab, "modeler-draft-restored")

    tab.click("#pf-draft-discard")
    expect(tab.locator("#pf-draft")).to_be_hidden()
    assert tab.evaluate(TASK_NAME) == deployed_name
    tab.goto(url)  # nothing unsaved: no question
    tab.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    assert dialogs == ["beforeunload"]
    expect(tab.locator("#pf-draft")).to_be_hidden()

    # a deploy takes the draft's place
    tab.locator('#pf-canvas [data-element-id="preliminary_review"]').click()
    tab.evaluate(RENAME, "初审")
    expect(tab.locator("#pf-admin-modeler")).to_have_attribute("data-draft-saved", re.compile("."))
    tab.click("#pf-deploy")
    expect(tab.locator("#pf-status")).to_contain_text("Version 2 of")
    tab.goto(url)
    tab.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    assert dialogs == ["beforeunload"]
    expect(tab.locator("#pf-draft")).to_be_hidden()
    assert tab.evaluate(TASK_NAME) == "初审"
    tab.close()


def test_the_properties_panel_speaks_chinese_and_offers_what_parkflow_runs(
    server: Server, chromium: Browser
) -> None:
    tab = admin_tab(server, chromium, "zh_CN")
    tab.goto(f"{server.url}/admin/processes/policy_subsidy/edit")
    tab.wait_for_selector('#pf-admin-modeler[data-ready="true"]')
    panel = tab.locator("#pf-properties")
    tab.evaluate("""() => { const m = window.Parkflow.modeler;
      const process = m.get("elementRegistry").find((e) => e.type === "bpmn:Participant");
      m.get("selection").select(process); }""")
    expect(panel.locator(".bio-properties-panel-header-type")).to_have_text("参与者")
    groups = panel.locator(".bio-properties-panel-group-header-title")
    expect(groups.filter(has_text="常规")).to_have_count(1)
    for hidden in ("历史清理", "作业执行", "任务列表", "可发起人", "外部任务", "异步延续"):
        expect(groups.filter(has_text=hidden)).to_have_count(0)
    tab.locator('#pf-canvas [data-element-id="preliminary_review"]').click()
    expect(panel.locator(".bio-properties-panel-header-type")).to_have_text("用户任务")
    expect(groups.filter(has_text="人员分配")).to_have_count(1)
    expect(groups.filter(has_text="审批方式")).to_have_count(1)
    for hidden in ("异步延续", "作业执行"):
        expect(groups.filter(has_text=hidden)).to_have_count(0)
    screenshot(tab, "zh-modeler-panel")

    # a service task chooses one of the registered services
    tab.evaluate("""() => { const m = window.Parkflow.modeler;
      const registry = m.get("elementRegistry");
      const participant = registry.find((e) => e.type === "bpmn:Participant");
      const task = m.get("modeling").createShape({ type: "bpmn:ServiceTask", id: "stamp" },
        { x: participant.x + 400, y: participant.y + 40 }, participant);
      m.get("selection").select(task); }""")
    expect(panel.locator(".bio-properties-panel-header-type")).to_have_text("服务任务")
    panel_group = panel.locator('[data-group-id="group-parkflowService"]')
    panel_group.locator(".bio-properties-panel-group-header").click()
    select = panel_group.get_by_label("已登记的服务")
    expect(select.locator("option")).to_contain_text(["无", "record_time"])
    select.select_option("record_time")
    service = tab.evaluate("""() => window.Parkflow.modeler.get("elementRegistry").get("stamp")
      .businessObject.extensionElements.values[0].values
      .find((p) => p.name === "service").value""")
    assert service == "record_time"
    # the implementation is a registered service or an external task, nothing Java
    implementation = panel.locator('[data-group-id="group-CamundaPlatform__Implementation"]')
    implementation.locator(".bio-properties-panel-group-header").click()
    kinds = implementation.get_by_label("实现")
    expect(kinds.locator("option")).to_have_text(
        ["已登记的服务", "外部任务（由执行程序按主题拉取）"])
    kinds.select_option("external")
    topic = implementation.get_by_label("主题")
    topic.fill("tax_check")
    topic.press("Tab")
    chosen = tab.evaluate("""() => { const task = window.Parkflow.modeler
      .get("elementRegistry").get("stamp").businessObject;
      return [task.get("camunda:type"), task.get("camunda:topic")]; }""")
    assert chosen == ["external", "tax_check"]
    for java in ("Java 类", "表达式", "委托表达式", "连接器"):
        expect(implementation.get_by_text(java, exact=True)).to_have_count(0)
    screenshot(tab, "zh-modeler-service")
    tab.close()
