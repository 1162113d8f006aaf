"""The approval idioms in one journey through the real pages, looked at in Chinese and English.

A 联合审查 (three-department 会签: 财务部, 招商服务部, 税务服务组) where 赵敏 hands her signature
on to 李娜 (转办), 陈杰 asks 张伟 to sign before him (加签) and copies the application to the
park's leader (抄送), and 刘洋 returns it to the first step with 直达 (退回) before 陈杰 has
decided: the node stops, 陈杰's task closes, and the resubmission goes straight back to the
node, open afresh for all three. The leader then approves five applications at once from the
inbox (批量同意) and finds the copy in 抄送我; the enterprise urges one application (催办) and
withdraws another (撤回) from 我的申请. Every action is then read back from
``GET /api/v1/instances/{id}/audit`` and on the tracker's timeline.

Screenshots (test-artifacts/screenshots/journey-*-{zh,en}.png) of the task page with the 会签
progress, the return dialog, the inbox with the batch, 我的申请, 抄送我 and the timeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.e2e.conftest import LiveServer, unlabelled
from tests.e2e.test_screens import signed_in_as
from tests.webapp.fixtures import start
from webapp.demo import PASSWORD
from webapp.models import HumanTask
from webapp.services import accounts, processes
from webapp.services.applications import complete_task

KEY = "joint_review"
# left to right on one line (y = 118): the events 36 wide, the tasks 100 by 80, 150 apart
NODES = (
    ("start", 36),
    ("first", 100),
    ("recheck", 100),
    ("joint", 100),
    ("decide", 100),
    ("done", 36),
)
SHAPES = "".join(
    f'<bpmndi:BPMNShape id="{name}_di" bpmnElement="{name}"><dc:Bounds x="{100 + 150 * i}" '
    f'y="{118 - size // 2 if size == 36 else 78}" width="{size}" '
    f'height="{size if size == 36 else 80}"/></bpmndi:BPMNShape>'
    for i, (name, size) in enumerate(NODES)
)
EDGES = "".join(
    f'<bpmndi:BPMNEdge id="f{i}_di" bpmnElement="f{i}">'
    f'<di:waypoint x="{100 + 150 * (i - 1) + NODES[i - 1][1]}" y="118"/>'
    f'<di:waypoint x="{100 + 150 * i}" y="118"/></bpmndi:BPMNEdge>'
    for i in range(1, len(NODES))
)
PROCEDURE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_{KEY}"
    targetNamespace="urn:parkflow:tests:e2e">
  <bpmn:process id="{KEY}" name="重点项目联合审查" isExecutable="true">
    <bpmn:documentation>重点项目经初审、复核后，由财务部、招商服务部、税务服务组会签，园区领导审定。</bpmn:documentation>
    <bpmn:startEvent id="start" name="提交申请"/>
    <bpmn:userTask id="first" name="初审" camunda:candidateGroups="政策审核组"/>
    <bpmn:userTask id="recheck" name="复核" camunda:candidateGroups="部门负责人"/>
    <bpmn:userTask id="joint" name="联合审查"
        camunda:candidateGroups="财务部,招商服务部,税务服务组">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="approvalMode" value="all"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="decide" name="审定" camunda:candidateGroups="园区领导">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="batchApprove" value="true"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="done" name="办结"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="recheck"/>
    <bpmn:sequenceFlow id="f3" sourceRef="recheck" targetRef="joint"/>
    <bpmn:sequenceFlow id="f4" sourceRef="joint" targetRef="decide"/>
    <bpmn:sequenceFlow id="f5" sourceRef="decide" targetRef="done"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="{KEY}">{SHAPES}{EDGES}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>""".encode()
DEPARTMENTS = ("zhao.min", "chen.jie", "liu.yang")
LANGUAGES = ("zh", "en")
REASONS = "缺少近两年的财务审计报告\n项目用地协议未盖章"


class People:
    """One signed-in page per user and language, opened when first needed."""

    def __init__(self, chromium: Browser, server: LiveServer) -> None:
        self.chromium = chromium
        self.server = server
        self.pages: dict[tuple[str, str], Page] = {}

    def page(self, username: str, language: str = "zh") -> Page:
        if (username, language) not in self.pages:
            self.pages[username, language] = signed_in_as(
                self.chromium, self.server, username, language, "desktop"
            )
        return self.pages[username, language]

    def open(self, username: str, path: str, language: str = "zh") -> Page:
        page = self.page(username, language)
        page.goto(f"{self.server.url}{path}")
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def people(chromium: Browser, live_server: LiveServer) -> Iterator[People]:
    with live_server.db.write() as session:
        park = accounts.get_park(session, "demo")
        processes.deploy(session, park=park, actor="test", bpmn={f"{KEY}.bpmn": PROCEDURE})
    found = People(chromium, live_server)
    yield found
    found.close()


def open_rows(server: LiveServer, instance_id: str, element_id: str) -> dict[str | None, str]:
    """The open tasks of ``element_id``: assignee -> task id."""
    with server.db.read() as session:
        rows = session.execute(
            select(HumanTask.assignee, HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                HumanTask.element_id == element_id,
                HumanTask.status == "open",
            )
        ).all()
    return {assignee: task_id for assignee, task_id in rows}


def only(server: LiveServer, instance_id: str, element_id: str) -> str:
    (task_id,) = open_rows(server, instance_id, element_id).values()
    return task_id


def at_decision(server: LiveServer) -> str:
    """An application brought to 审定 (the leader's step) by the services."""
    instance_id = start(server.db, KEY, {})
    for element, who in (("first", "zhang.wei"), ("recheck", "li.na")):
        complete_task(server.db, task_id=only(server, instance_id, element), data={}, actor=who)
    for who, task_id in open_rows(server, instance_id, "joint").items():
        complete_task(server.db, task_id=task_id, data={"approved": True}, actor=str(who))
    return instance_id


def submit(page: Page) -> None:
    """Submit the task page's form, confirming once."""
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form.schema-form button[type=submit]").click()
    page.wait_for_load_state()


def shoot(page: Page, screenshots: Path, name: str, language: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots / f"journey-{name}-{language}.png"), full_page=True)


def both(people: People, username: str, path: str, screenshots: Path, name: str) -> dict[str, Page]:
    """The page at ``path`` as ``username`` sees it in both languages, photographed."""
    pages = {}
    for language in LANGUAGES:
        page = people.open(username, path, language)
        shoot(page, screenshots, name, language)
        pages[language] = page
    return pages


def audit_actions(people: People, instance_id: str) -> list[dict[str, Any]]:
    """The application's audit trail through the REST API, as the park's administrator."""
    request = people.page("admin").request
    token = request.post(
        f"{people.server.url}/api/v1/auth/token",
        data={"username": "admin", "password": PASSWORD},
    )
    assert token.ok, token.text()
    answer = request.get(
        f"{people.server.url}/api/v1/instances/{instance_id}/audit",
        headers={"Authorization": f"Bearer {token.json()['token']}"},
    )
    assert answer.ok, answer.text()
    return list(answer.json())


def test_the_approval_idioms_journey(
    people: People, live_server: LiveServer, screenshots: Path
) -> None:
    server = live_server
    joint = start(server.db, KEY, {})
    # the first two steps through their task pages
    submit(people.open("zhang.wei", f"/tasks/{only(server, joint, 'first')}"))
    submit(people.open("li.na", f"/tasks/{only(server, joint, 'recheck')}"))
    signers = open_rows(server, joint, "joint")
    assert sorted(str(who) for who in signers) == sorted(DEPARTMENTS)

    # 转办: 赵敏 hands her signature on to 李娜
    page = people.open("zhao.min", f"/tasks/{signers['zhao.min']}")
    page.locator("#dialog-transfer > summary").click()
    page.locator("#dialog-transfer input[name=username]").fill("li.na")
    page.locator("#dialog-transfer textarea[name=comment]").fill("请李娜代为会签")
    page.locator("#dialog-transfer button[type=submit]").click()
    page.wait_for_load_state()
    assert open_rows(server, joint, "joint").get("li.na") == signers["zhao.min"]
    submit(people.open("li.na", f"/tasks/{signers['zhao.min']}"))

    # 加签: 陈杰 asks 张伟 to sign before him, then copies the application to the leader
    page = people.open("chen.jie", f"/tasks/{signers['chen.jie']}")
    page.locator("#dialog-add-signers > summary").click()
    page.locator("#dialog-add-signers input[name=usernames]").first.fill("zhang.wei")
    page.locator("#dialog-add-signers input[name=position][value=before]").check()
    page.locator("#dialog-add-signers textarea[name=comment]").fill("请政策审核组先行会签")
    page.locator("#dialog-add-signers button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("#copy-usernames").fill("wang.qiang")
    page.locator("#copy-form button[type=submit]").click()
    page.wait_for_load_state()
    with server.db.read() as session:
        added = session.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == joint,
                HumanTask.assignee == "zhang.wei",
                HumanTask.status == "open",
            )
        ).one()
    submit(people.open("zhang.wei", f"/tasks/{added}"))

    # where the 会签 stands, as 刘洋 sees it on his task
    task_path = f"/tasks/{signers['liu.yang']}"
    pages = both(people, "liu.yang", task_path, screenshots, "countersign-task")
    expect(pages["zh"].get_by_text(re.compile(r"会签 1/3")).first).to_be_visible()

    # 退回 from the 会签 to the first step, with 直达: the dialog in both languages
    for language, labels in (
        ("en", ("初审", "Come straight back to me")),
        ("zh", ("初审", "直达本环节（跳过中间环节）")),
    ):
        page = people.open("liu.yang", task_path, language)
        page.locator("#return-dialog > summary").click()
        page.get_by_label(labels[0], exact=True).check()
        page.locator("#return-reasons").fill(REASONS)
        page.get_by_label(labels[1]).check()
        page.locator("#return-comment").fill("补齐后直接回到联合审查")
        assert unlabelled(page) == []
        page.locator("#return-dialog").screenshot(
            path=str(screenshots / f"journey-return-dialog-{language}.png")
        )
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#return-dialog button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inbox$"))
    # the whole node stopped (陈杰's task closed with it); the first step is open again
    assert open_rows(server, joint, "joint") == {}
    first_again = only(server, joint, "first")
    submit(people.open("zhang.wei", f"/tasks/{first_again}"))
    # straight back: past 复核, to the 会签, open afresh for all three departments
    assert open_rows(server, joint, "recheck") == {}
    again = open_rows(server, joint, "joint")
    assert sorted(str(who) for who in again) == sorted(DEPARTMENTS)
    assert not set(again.values()) & set(signers.values())
    for who, task_id in again.items():
        complete_task(server.db, task_id=task_id, data={"approved": True}, actor=str(who))

    # 批量同意: the leader approves five applications at 审定 from the inbox
    batch = [joint] + [at_decision(server) for _ in range(4)]
    decisions = [only(server, instance_id, "decide") for instance_id in batch]
    for language in ("en", "zh"):
        page = people.open("wang.qiang", "/inbox", language)
        for task_id in decisions:
            page.locator(f'input[name=task_id][value="{task_id}"]').check()
        shoot(page, screenshots, "inbox-batch", language)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="批量同意").click()
    expect(page.locator("#batch-results tbody tr.batch-completed")).to_have_count(5)
    assert all(open_rows(server, instance_id, "decide") == {} for instance_id in batch)

    # 催办 and 撤回 from 我的申请
    urged = start(server.db, KEY, {})
    withdrawn = start(server.db, KEY, {})
    page = people.open("xinghe", "/applications")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'form[action$="/applications/{urged}/urge"] button').click()
    page.wait_for_load_state()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'form[action$="/applications/{withdrawn}/withdraw"] button').click()
    page.wait_for_load_state()
    both(people, "xinghe", "/applications", screenshots, "my-applications")
    assert open_rows(server, withdrawn, "first") == {}
    # the holder sees the urge on the inbox row
    inbox = people.open("zhang.wei", "/inbox")
    expect(inbox.locator(".chip-urged")).to_have_count(1)

    # 抄送我: the leader finds the copied application
    pages = both(people, "wang.qiang", "/inbox/cc", screenshots, "cc")
    row = pages["zh"].locator("tr", has=pages["zh"].locator(f'a[href*="{joint}"]'))
    expect(row).to_contain_text("陈杰（招商服务）")

    # every action in the audit trail ...
    expected = {
        joint: {
            "task.transferred",
            "task.signers_added",
            "instance.cc",
            "task.returned",
            "task.closed_by_return",
            "task.completed",
        },
        urged: {"instance.urged"},
        withdrawn: {"instance.withdrawn"},
    }
    for instance_id, actions in expected.items():
        seen = {event["action"] for event in audit_actions(people, instance_id)}
        assert actions <= seen, (instance_id, actions - seen)
    # ... and on the tracker's timeline (a completion shows as its step)
    for instance_id, actions in expected.items():
        path = f"/applications/{instance_id}?history=all"
        if instance_id == joint:
            pages = both(people, "admin", path, screenshots, "timeline")
            page = pages["zh"]
        else:
            page = people.open("admin", path)
        for action in actions - {"task.completed"}:
            shown = page.locator(f".timeline-action.action-{action.replace('.', '-')}")
            assert shown.count() >= 1, (instance_id, action)
    timeline = people.open("admin", f"/applications/{joint}?history=all")
    expect(timeline.locator(".action-task-closed_by_return")).to_contain_text("陈杰（招商服务）")
    expect(timeline.locator(".action-instance-cc .chip")).to_have_text("抄送")
    steps = timeline.locator(".timeline-item:not(.timeline-action) .step-name").all_inner_texts()
    assert steps.count("审定") == 1 and steps.count("联合审查") >= 6
