"""A finished tracker says how the application ended and what was granted."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import (
    HANDOVER,
    INVOICE_QUOTA,
    TAX_REGISTRATION,
    TAX_TYPES,
    complete,
    start,
)
from tests.webapp.pages.test_applications import completed_application
from webapp.db import Database
from webapp.services.applicant_actions import withdraw_application

OpenBrowser = Callable[..., Browser]


def granted_rows(html: str) -> dict[str, str]:
    """The label -> value rows of the tracker's "what was granted" block."""
    block = re.search(r'<div class="granted" id="granted">(.*?)</dl>', html, re.S)
    if block is None:
        return {}
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block.group(1), re.S))


def outcome_of(html: str) -> str | None:
    found = re.search(r'id="outcome" data-result="([a-z]+)">\s*<strong>([^<]+)</strong>', html)
    return f"{found.group(1)}:{found.group(2)}" if found else None


def test_an_approved_application_shows_what_was_granted(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = completed_application(parks)
    for viewer in ("xinghe", "zhang.wei"):
        html = text_of(browser(viewer).get(f"/applications/{instance_id}"))
        assert outcome_of(html) == "approved:已批准"
        rows = granted_rows(html)
        # the figures the eligibility table fixed and finance's handover, as the forms call them
        assert rows["核定金额（元）"] == "1,000,000"
        assert rows["扶持档次"] == "A"
        assert rows["预算科目"] == HANDOVER["budget_subject"]
        assert rows["计划拨付日期"] == HANDOVER["planned_payment_date"]
        assert list(rows)[0] == "扶持档次"  # in the order the procedure names them
    english = text_of(
        browser("xinghe").get(f"/applications/{instance_id}", headers={"Accept-Language": "en"})
    )
    assert "What was granted" in english and outcome_of(english) == "approved:Granted"


def test_a_refused_or_withdrawn_application_grants_nothing(
    parks: Database, browser: OpenBrowser
) -> None:
    rejected = start(parks)
    complete(
        parks,
        rejected,
        "preliminary_review",
        {"outcome": "reject", "comment": "不符合"},
        "zhang.wei",
    )
    withdrawn = start(parks)
    withdraw_application(parks, instance_id=withdrawn, actor="xinghe", reason="材料有误")
    running = start(parks)
    enterprise = browser("xinghe")
    for instance_id, result in (
        (rejected, "rejected:不予批准"),
        (withdrawn, "withdrawn:已撤回"),
        (running, None),
    ):
        html = text_of(enterprise.get(f"/applications/{instance_id}"))
        assert outcome_of(html) == result
        assert granted_rows(html) == {} and 'id="granted"' not in html


def test_the_tracker_puts_where_it_stands_before_the_diagram(
    parks: Database, browser: OpenBrowser
) -> None:
    html = text_of(browser("xinghe").get(f"/applications/{start(parks)}"))
    # a phone shows the page in this order: 当前进度 comes before the diagram and the timeline
    assert html.index('id="now-title"') < html.index('class="pf-diagram"')
    assert html.index('class="pf-diagram"') < html.index('id="timeline-title"')


def test_tax_docking_shows_the_invoices_and_taxes_granted(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = start(parks, "tax_docking", TAX_REGISTRATION)
    complete(parks, instance_id, "tax_review", {"outcome": "approve"}, "liu.yang")
    complete(parks, instance_id, "invoice_quota", INVOICE_QUOTA, "liu.yang")
    complete(parks, instance_id, "tax_type_assessment", TAX_TYPES, "liu.yang")
    complete(parks, instance_id, "enterprise_confirmation", {"acknowledged": True}, "xinghe")

    rows = granted_rows(text_of(browser("xinghe").get(f"/applications/{instance_id}")))

    # choices read as the form that asked them labels them, lists one after the other
    assert rows == {
        "核定发票种类": "增值税专用发票；数电发票",
        "单张最高开票限额（元）": "百万元",
        "每月领用份数": "100",
        "认定税种": "增值税；企业所得税；印花税",
        "增值税税率（征收率）": "13%",
        "申报期限": "按月申报",
    }
