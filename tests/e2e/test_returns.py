"""退回 and 批量同意 in a real browser, in Chinese and in English: a leader returns one
application to its first step with 直达 from the return dialog, and approves five others at
once from the inbox."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SIGNED_IN_TIMEOUT_MS, LiveServer, signed_in, unlabelled
from tests.webapp.fixtures import complete, history, open_tasks, start
from webapp.demo import PASSWORD
from webapp.services import accounts, processes

BPMN = Path(__file__).resolve().parents[1] / "webapp" / "api" / "data" / "returns.bpmn"
REASONS = "营业执照复印件未加盖公章\n研发费用明细缺少第四季度"


def at_step3(server: LiveServer) -> str:
    instance_id = start(server.db, "three_steps", {"needs_more": False})
    complete(server.db, instance_id, "step1", {"checked": 1}, "zhang.wei")
    complete(server.db, instance_id, "step2", {"reviewed": 1}, "li.na")
    return instance_id


def deployed(server: LiveServer) -> None:
    with server.db.write() as session:
        park = accounts.get_park(session, "demo")
        processes.deploy(session, park=park, actor="test", bpmn={BPMN.name: BPMN.read_bytes()})


def in_english(chromium: Browser, server: LiveServer, username: str) -> Page:
    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(SIGNED_IN_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"/inbox$"))
    return page


def return_with_direct(
    page: Page, server: LiveServer, instance_id: str, shot: Path, labels: dict[str, str]
) -> None:
    task = open_tasks(server.db, instance_id)["step3"]
    page.goto(f"{server.url}/tasks/{task.id}")
    page.locator("#return-dialog > summary").click()
    page.get_by_label(labels["first"], exact=True).check()
    page.locator("#return-reasons").fill(REASONS)
    page.get_by_label(labels["direct"]).check()
    assert unlabelled(page) == []
    page.locator("#return-dialog").screenshot(path=str(shot))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#return-dialog button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inbox$"))
    assert list(open_tasks(server.db, instance_id)) == ["step1"]
    assert history(server.db, instance_id)[-1].outcome == "return"


def approve_five(page: Page, server: LiveServer, shots: tuple[Path, Path], button: str) -> None:
    ids = [at_step3(server) for _ in range(5)]
    page.goto(f"{server.url}/inbox")
    for instance_id in ids:
        task = open_tasks(server.db, instance_id)["step3"]
        page.locator(f'input[name=task_id][value="{task.id}"]').check()
    page.screenshot(path=str(shots[0]), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=button).click()
    expect(page.locator("#batch-results tbody tr.batch-completed")).to_have_count(5)
    page.screenshot(path=str(shots[1]), full_page=True)
    assert all(open_tasks(server.db, instance_id) == {} for instance_id in ids)


def test_return_dialog_and_batch_approval(
    chromium: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    deployed(live_server)
    chinese = signed_in(chromium, live_server, "wang.qiang")
    return_with_direct(
        chinese,
        live_server,
        at_step3(live_server),
        screenshots / "return-dialog-zh.png",
        {"first": "初审", "direct": "直达本环节（跳过中间环节）"},
    )
    approve_five(
        chinese,
        live_server,
        (screenshots / "batch-inbox-zh.png", screenshots / "batch-results-zh.png"),
        "批量同意",
    )
    chinese.context.close()

    english = in_english(chromium, live_server, "wang.qiang")
    return_with_direct(
        english,
        live_server,
        at_step3(live_server),
        screenshots / "return-dialog-en.png",
        {"first": "初审", "direct": "Come straight back to me"},
    )
    approve_five(
        english,
        live_server,
        (screenshots / "batch-inbox-en.png", screenshots / "batch-results-en.png"),
        "Batch approve",
    )
    english.context.close()
