"""免申即享 in the pages: an administrator writes a policy, an enterprise's profile makes it
match, the enterprise sees the offer with its application filled in and confirms it; the
application form opens prefilled when it needs more than the profile holds."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tests.webapp.apptools import Browser, text_of
from webapp.db import Database
from webapp.models import Draft, PolicyOffer

OpenBrowser = Callable[..., Browser]
TABLE = (Path(__file__).parents[1] / "api" / "data" / "rd_award_eligibility.dmn").read_text()
# the subsidy's application form names the amount requested_amount
SUBSIDY_TABLE = TABLE.replace('name="amount"', 'name="requested_amount"')
POLICY = {"key": "rd-award", "name": "研发投入奖励", "description": "研发投入达标企业免申即享。",
          "process_key": "policy_subsidy", "eligibility": SUBSIDY_TABLE,
          "prefill": "rd_spend = rd_spend", "active": "on"}


def test_an_offer_reaches_the_enterprise_and_opens_its_application_prefilled(
    parks: Database, browser: OpenBrowser
) -> None:
    admin = browser("admin")
    saved = admin.post("/admin/policies", POLICY)
    assert saved.status_code == 302 and saved.location.endswith("/admin/policies/rd-award")
    page = text_of(admin.get("/admin/policies/rd-award"))
    assert "研发投入奖励" in page and "暂无企业与该政策匹配" in page

    enterprise = browser("xinghe")
    empty = text_of(enterprise.get("/policies"))
    assert 'id="no-profile"' in empty and 'id="no-offers"' in empty
    profiled = enterprise.post("/profile", {"industry": "新材料", "size": "small",
                                            "employees": "120", "rd_spend": "600",
                                            "certifications": "高新技术企业", "tags": "研发，出口"})
    assert profiled.status_code == 302
    shown = text_of(enterprise.get("/profile"))
    assert 'value="600.0"' in shown or 'value="600"' in shown
    assert re.search(r'value="高新技术企业"\s+checked', shown)

    notices = enterprise.get("/notifications")
    assert notices.status_code == 200 and "政策「研发投入奖励」与贵企业匹配" in text_of(notices)
    offers = text_of(enterprise.get("/policies"))
    assert 'data-policy="rd-award"' in offers and "研发投入奖励" in offers
    assert "200000" in offers  # the table's amount, under the form's title for it
    with parks.read() as session:
        offer_id = session.scalars(select(PolicyOffer.id)).one()
    # the subsidy's form needs uploads and a commitment: confirming opens it, filled in
    confirmed = enterprise.post(f"/policies/offers/{offer_id}/confirm", {})
    assert confirmed.status_code == 302 and "/applications/new/policy_subsidy?draft=" in (
        confirmed.location)
    form = text_of(enterprise.get(confirmed.location))
    assert re.search(r'name="requested_amount"[^>]*value="200000', form)
    assert re.search(r'name="rd_spend"[^>]*value="600', form)
    with parks.read() as session:
        assert session.scalars(select(PolicyOffer.status)).one() == "offered"
        assert session.scalars(select(Draft.process_key)).one() == "policy_subsidy"
    listed = text_of(admin.get("/admin/policies/rd-award"))
    assert 'data-enterprise="星河科技有限公司" data-status="offered"' in listed
    assert "蓝海新材料" not in listed
    row = listed[listed.index('data-policy="rd-award"'):]
    # waiting, applied, declined
    assert re.findall(r"<td>(\d+)</td>", row[:row.index("</tr>")]) == ["1", "0", "0"]

    declined = enterprise.post(f"/policies/offers/{offer_id}/decline", {})
    assert declined.status_code == 302
    assert 'id="no-offers"' in text_of(enterprise.get("/policies"))


def test_policy_pages_refuse_bad_input_and_strangers(parks: Database,
                                                      browser: OpenBrowser) -> None:
    admin = browser("admin")
    broken = admin.post("/admin/policies", {**POLICY, "eligibility": "<definitions>"})
    assert broken.status_code == 422
    assert "not well-formed" in text_of(broken)
    assert "&lt;definitions&gt;" in text_of(broken)  # what was typed is kept
    no_key = admin.post("/admin/policies", {**POLICY, "key": "坏 key"})
    assert no_key.status_code == 422
    assert admin.get("/admin/policies/nothing").status_code == 404
    assert browser("zhang.wei").get("/admin/policies").status_code == 403
    assert browser("zhang.wei").get("/policies").status_code == 403
    enterprise = browser("xinghe")
    assert enterprise.get("/admin/policies").status_code == 403
    bad = enterprise.post("/profile", {"rd_spend": "很多", "size": "small"})
    assert bad.status_code == 422 and "rd_spend" in text_of(bad)
    assert enterprise.post("/policies/offers/12345/confirm", {}).status_code == 404
