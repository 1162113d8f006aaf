"""The 审批单: an application's record as a PDF, read back page by page."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader

from tests.webapp.apptools import Browser
from tests.webapp.fixtures import REASONS, complete, load_instance, start
from tests.webapp.pages.test_applications import completed_application
from webapp.db import Database

OpenBrowser = Callable[..., Browser]


def pdf_text(data: bytes) -> str:
    """The text of every page, without the line breaks the layout put in."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def kept_records(browser: Browser, instance_id: str) -> list[Path]:
    """The archived records of an application in the instance folder."""
    folder = Path(browser.client.application.instance_path)
    return list(folder.glob(f"archives/*/{instance_id}.pdf"))


def test_the_record_holds_the_form_every_decision_and_the_audit_trail(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = start(parks)
    complete(
        parks,
        instance_id,
        "preliminary_review",
        {"outcome": "return", "return_reasons": REASONS, "comment": "请一次补齐"},
        "zhang.wei",
    )
    answer = browser("xinghe").get(f"/applications/{instance_id}/print")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in answer.headers["Content-Disposition"]
    text = pdf_text(answer.data)
    assert load_instance(parks, instance_id).reference in text
    assert "审批单" in text and "星河科技有限公司" in text  # the title and the form
    assert "张伟" in text and "请一次补齐" in text  # who decided, and the comment
    assert all(reason.replace(" ", "") in text for reason in REASONS)
    assert "提交申请" in text and "办理完成" in text  # the audit trail
    # an application that is still running is drawn afresh: nothing is kept of it
    assert not kept_records(browser("xinghe"), instance_id)


def test_a_finished_application_is_kept_once_and_handed_out_unchanged(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = completed_application(parks)
    reviewer = browser("zhang.wei")
    first = reviewer.get(f"/applications/{instance_id}/print")
    assert first.status_code == 200
    kept = kept_records(reviewer, instance_id)
    assert len(kept) == 1 and kept[0].read_bytes() == first.data
    # the English reader gets the kept record, not a new one in English
    again = browser("xinghe").get(
        f"/applications/{instance_id}/print", headers={"Accept-Language": "en"}
    )
    assert again.data == first.data
    assert "李娜" in pdf_text(first.data)  # the director's decision


def test_only_those_who_see_the_application_print_it(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    for outsider in ("lanhai", "other.ent", "other.reviewer"):
        assert browser(outsider).get(f"/applications/{instance_id}/print").status_code == 404
    assert browser("xinghe").get("/applications/nothing/print").status_code == 404
