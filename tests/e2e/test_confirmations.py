"""What cannot be undone is asked once more in the browser, naming the application and the
decision; saying no sends nothing."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog

from tests.e2e.conftest import LiveServer, signed_in
from tests.webapp.fixtures import complete, load_instance, open_tasks, start


def test_a_refusal_is_confirmed_naming_the_application(
    chromium: Browser, live_server: LiveServer
) -> None:
    instance_id = start(live_server.db)
    reference = load_instance(live_server.db, instance_id).reference
    task = open_tasks(live_server.db, instance_id)["preliminary_review"]
    reviewer = signed_in(chromium, live_server, "zhang.wei")
    reviewer.goto(f"{live_server.url}/tasks/{task.id}")
    reviewer.get_by_role("button", name="认领").click()
    reviewer.get_by_label("不予受理", exact=True).check()
    reviewer.get_by_label("审核意见").fill("不符合申报条件。")
    asked: list[str] = []
    sent: list[str] = []
    reviewer.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)

    def refuse(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    reviewer.once("dialog", refuse)
    reviewer.get_by_role("button", name="提交", exact=True).click()
    reviewer.wait_for_timeout(300)
    assert asked == [f"不予受理：{reference}（政策扶持资金申请）。此决定不可撤销，确定提交吗？"]
    assert sent == [] and "preliminary_review" in open_tasks(live_server.db, instance_id)

    reviewer.once("dialog", lambda dialog: dialog.accept())
    reviewer.get_by_role("button", name="提交", exact=True).click()
    reviewer.wait_for_url(re.compile(r"/inbox$"))
    assert load_instance(live_server.db, instance_id).result == "rejected"


def test_an_approval_is_not_asked_again(chromium: Browser, live_server: LiveServer) -> None:
    instance_id = start(live_server.db)
    task = open_tasks(live_server.db, instance_id)["preliminary_review"]
    reviewer = signed_in(chromium, live_server, "zhang.wei")
    reviewer.goto(f"{live_server.url}/tasks/{task.id}")
    reviewer.get_by_role("button", name="认领").click()
    asked: list[str] = []
    reviewer.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    reviewer.get_by_label("通过", exact=True).check()
    reviewer.get_by_role("button", name="提交", exact=True).click()
    reviewer.wait_for_url(re.compile(r"/inbox$"))
    assert asked == []


def test_withdrawing_is_confirmed(chromium: Browser, live_server: LiveServer) -> None:
    instance_id = start(live_server.db)
    reference = load_instance(live_server.db, instance_id).reference
    admin = signed_in(chromium, live_server, "admin")
    admin.goto(f"{live_server.url}/admin/applications/{instance_id}")
    asked: list[str] = []

    def refuse(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    admin.once("dialog", refuse)
    admin.get_by_role("button", name="撤销", exact=True).click()
    admin.wait_for_timeout(300)
    assert asked and reference in asked[0] and "政策扶持资金申请" in asked[0]
    assert load_instance(live_server.db, instance_id).status == "active"


def test_a_refused_approval_is_confirmed_naming_the_application(
    chromium: Browser, live_server: LiveServer
) -> None:
    instance_id = start(live_server.db)
    reference = load_instance(live_server.db, instance_id).reference
    complete(live_server.db, instance_id, "preliminary_review", {"outcome": "approve"},
             "zhang.wei")
    task = open_tasks(live_server.db, instance_id)["director_review"]
    director = signed_in(chromium, live_server, "li.na")
    director.goto(f"{live_server.url}/tasks/{task.id}")
    if director.get_by_role("button", name="认领").count():
        director.get_by_role("button", name="认领").click()
    director.get_by_label("不予批准", exact=True).check()
    director.get_by_label("复核意见").fill("预算不足。")
    asked: list[str] = []

    def refuse(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    director.once("dialog", refuse)
    director.get_by_role("button", name="提交", exact=True).click()
    director.wait_for_timeout(300)
    assert asked == [f"不予批准：{reference}（政策扶持资金申请）。此决定不可撤销，确定提交吗？"]
    assert "director_review" in open_tasks(live_server.db, instance_id)
