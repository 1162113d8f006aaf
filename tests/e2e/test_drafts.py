"""暂存 tried as an enterprise would: a half-filled form is saved with its file, shows under
我的申请 with no reference, comes back filled in, and is deleted after a confirmation."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog

from tests.e2e.conftest import LiveServer, signed_in


def test_a_form_saved_unfinished_comes_back_and_is_deleted(
    chromium: Browser, live_server: LiveServer
) -> None:
    page = signed_in(chromium, live_server, "xinghe")
    page.goto(f"{live_server.url}/applications/new/policy_subsidy")
    page.locator('input[name="credit_code"]').fill("91320594MA1W2X3Y4K")
    page.locator('input[name="rd_spend"]').fill("12000000")
    page.locator('input[type="file"][data-max-bytes]').first.set_input_files(
        files=[
            {"name": "审计报告.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\nsmall"}
        ]
    )
    page.get_by_role("button", name="暂存").click()
    page.wait_for_url(re.compile(r"/applications(#drafts-title)?$"))

    drafts = page.locator("section.drafts li.draft")
    assert drafts.count() == 1
    assert "政策扶持资金申请" in drafts.first.inner_text()
    assert "DEMO-2026" not in page.locator("section.drafts").inner_text()  # no reference

    drafts.first.get_by_role("link", name=re.compile("继续填写")).click()
    assert page.locator('input[name="credit_code"]').input_value() == "91320594MA1W2X3Y4K"
    assert page.locator('input[name="rd_spend"]').input_value() == "12000000"
    assert "审计报告.pdf" in page.locator("form.schema-form").inner_text()

    page.goto(f"{live_server.url}/applications")
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.locator("section.drafts").get_by_role("button", name=re.compile("删除")).click()
    page.wait_for_load_state("networkidle")
    assert asked and "政策扶持资金申请" in asked[0]
    assert page.locator("section.drafts").count() == 0
    page.context.close()
