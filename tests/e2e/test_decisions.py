"""Every decision is its own, in a real browser: the second reviewer sees the first one's
decision beside the form, and a form with nothing ticked."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveServer, signed_in, unlabelled
from tests.webapp.fixtures import open_tasks, start

COMMENT = "材料齐全，同意受理。"



def test_the_director_decides_on_a_blank_form_beside_the_first_decision(
    chromium: Browser, live_server: LiveServer, screenshots: Path
) -> None:
    instance_id = start(live_server.db)
    first = open_tasks(live_server.db, instance_id)["preliminary_review"]
    reviewer = signed_in(chromium, live_server, "zhang.wei")
    reviewer.goto(f"{live_server.url}/tasks/{first.id}")
    reviewer.get_by_role("button", name="认领").click()
    reviewer.get_by_label("通过", exact=True).check()
    reviewer.get_by_label("审核意见").fill(COMMENT)
    reviewer.get_by_role("button", name="提交", exact=True).click()
    reviewer.wait_for_url(re.compile(r"/inbox$"))
    reviewer.context.close()

    second = open_tasks(live_server.db, instance_id)["director_review"]
    director = signed_in(chromium, live_server, "li.na")
    director.goto(f"{live_server.url}/tasks/{second.id}")
    director.get_by_role("button", name="认领").click()
    director.wait_for_load_state("networkidle")
    director.screenshot(path=str(screenshots / "task-second-step-decisions.png"), full_page=True)

    decision = director.locator(".decisions .decision")
    expect(decision).to_have_count(1)
    expect(decision.locator(".decision-head")).to_contain_text("初审")
    expect(decision.locator(".decision-head")).to_contain_text("张伟（政策审核）")
    expect(decision.locator(".decision-head")).to_contain_text("通过")
    expect(decision.locator(".decision-remarks")).to_contain_text(COMMENT)
    form = director.locator("form.schema-form")
    expect(form.get_by_label("批准", exact=True)).not_to_be_checked()
    expect(form.get_by_label("不予批准", exact=True)).not_to_be_checked()
    expect(form.get_by_label("复核意见")).to_have_value("")
    assert unlabelled(director) == []

    # pressing 提交 untouched decides nothing in the director's name
    form.get_by_role("button", name="提交", exact=True).click()
    expect(director.locator("#f-outcome-error")).to_be_visible()
    assert "director_review" in open_tasks(live_server.db, instance_id)
    director.context.close()
