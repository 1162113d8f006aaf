"""A correction round in a real browser: the enterprise corrects any field of its application
while the tracker reads 待补正 with the clock paused; the reviewer then sees the correction note
and what changed, old → new."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveServer, signed_in, unlabelled
from tests.webapp.fixtures import REASONS, complete, open_tasks, start

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOTE = "已补充盖章的营业执照，申请金额按审计报告更正。"



def test_a_correction_round_trip(
    chromium: Browser, live_server: LiveServer, screenshots: Path, tmp_path: Path
) -> None:
    instance_id = start(live_server.db)
    complete(
        live_server.db,
        instance_id,
        "preliminary_review",
        {"outcome": "return", "return_reasons": REASONS},
        "zhang.wei",
    )

    enterprise = signed_in(chromium, live_server, "xinghe")
    enterprise.goto(f"{live_server.url}/applications/{instance_id}")
    expect(enterprise.locator("h1 [data-status-detail=with_applicant]")).to_have_text("待补正")
    expect(enterprise.locator("#clock-paused")).to_be_visible()
    enterprise.screenshot(path=str(screenshots / "tracker-with-applicant.png"), full_page=True)

    correction = open_tasks(live_server.db, instance_id)["correction"]
    enterprise.goto(f"{live_server.url}/tasks/{correction.id}")
    amount = enterprise.get_by_label("申请金额（元）")
    expect(amount).to_have_value(re.compile(r"800,?000"))
    amount.fill("600000")
    enterprise.get_by_label("联系人").fill("王芳")
    enterprise.get_by_label("补正说明").fill(NOTE)
    licence = tmp_path / "营业执照(盖章).pdf"
    licence.write_bytes(PDF)
    enterprise.locator('input[type="file"]').set_input_files(str(licence))
    assert unlabelled(enterprise) == []
    enterprise.get_by_role("button", name="提交", exact=True).click()
    enterprise.wait_for_url(re.compile(rf"/applications/{instance_id}$"))
    expect(enterprise.locator("h1 [data-status-detail=with_applicant]")).to_have_count(0)
    enterprise.context.close()

    review = open_tasks(live_server.db, instance_id)["preliminary_review"]
    reviewer = signed_in(chromium, live_server, "zhang.wei")
    reviewer.goto(f"{live_server.url}/tasks/{review.id}")
    reviewer.wait_for_load_state("networkidle")
    reviewer.screenshot(path=str(screenshots / "task-after-resubmission.png"), full_page=True)

    expect(reviewer.locator("#correction-note")).to_have_text(NOTE)
    rows = reviewer.locator("#changes tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("申请金额（元）")
    expect(rows.nth(0).locator("del")).to_have_text("800,000")
    expect(rows.nth(0).locator("ins")).to_have_text("600,000")
    expect(rows.nth(1).locator("ins")).to_have_text("王芳")
    expect(reviewer.locator("#file-changes .file-added")).to_contain_text("营业执照(盖章).pdf")
    expect(reviewer.locator("#file-changes .file-removed")).to_have_count(3)
    reviewer.context.close()

    enterprise = signed_in(chromium, live_server, "xinghe")
    enterprise.goto(f"{live_server.url}/applications/{instance_id}")
    expect(enterprise.locator("#paused-total")).to_contain_text("不计入承诺时限")
    enterprise.screenshot(path=str(screenshots / "tracker-after-resubmission.png"), full_page=True)
    enterprise.context.close()
