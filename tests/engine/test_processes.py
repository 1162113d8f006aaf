"""The four shipped procedures, walked through the engine along every path to each end event.

The clock is frozen on Monday 2 March 2026, 09:00 in Shanghai, and moved forward to fire
timers, so working-day due dates and timers can be checked to the second (the default
calendar counts weekends only).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from lxml import etree

from engine.definitions import ProcessVersion, prepare_deployment
from engine.errors import FormDataInvalid, NotWaiting
from engine.runtime import Engine
from engine.values import OpenTask, Snapshot, StepRecord
from forms import load_forms

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
PARK_GROUPS = {"企业", "招商服务部", "政策审核组", "部门负责人", "园区领导", "财务部", "税务服务组"}


def local(day: int, hour: int = 9) -> datetime:
    """A time in March 2026, Shanghai."""
    return datetime(2026, 3, day, hour, 0, tzinfo=SHANGHAI)


def day_end(day: int) -> datetime:
    """The end of a working day in March 2026, Shanghai: when a limit in working days ends."""
    return datetime(2026, 3, day, 17, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def versions() -> dict[str, ProcessVersion]:
    bpmn = {p.name: p.read_bytes() for p in sorted(PROCESSES.glob("*.bpmn"))}
    dmn = {p.name: p.read_bytes() for p in sorted(PROCESSES.glob("*.dmn"))}
    return {v.key: v for v in prepare_deployment(bpmn, dmn, load_forms())}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


class Walk:
    """One application moved through the engine, step by step, as the web layer would."""

    def __init__(self, versions: Mapping[str, ProcessVersion], key: str,
                 data: Mapping[str, Any], clock: Any, actor: str = "ent1") -> None:
        self.version = versions[key]
        self.clock = clock
        self.runtime = Engine()
        self.steps: list[StepRecord] = []
        self._take(self.runtime.start(self.version, data, actor=actor))

    def _take(self, snapshot: Snapshot) -> None:
        assert snapshot.error is None, snapshot.error
        self.snapshot = snapshot
        self.steps.extend(snapshot.steps)

    @property
    def open(self) -> list[str]:
        return sorted(t.element_id for t in self.snapshot.open_tasks)

    def task(self, element_id: str) -> OpenTask:
        found = [t for t in self.snapshot.open_tasks if t.element_id == element_id]
        assert len(found) == 1, f"{element_id} is not open; open: {self.open}"
        return found[0]

    def data_of(self, element_id: str) -> dict[str, Any]:
        task = self.task(element_id)
        return self.runtime.task_data(self.version, self.snapshot.state, task.task_id)

    def complete(self, element_id: str, data: Mapping[str, Any],
                 actor: str = "rev1") -> OpenTask:
        task = self.task(element_id)
        self._take(self.runtime.complete_task(self.version, self.snapshot.state, task.task_id,
                                              data, actor=actor))
        return task

    def fire(self, element_id: str) -> datetime:
        """Move the clock just past the timer's due time and let it fire; its due time."""
        due = [t.due_at for t in self.snapshot.timers if t.element_id == element_id]
        assert len(due) == 1, f"no timer {element_id}; timers: {self.snapshot.timers}"
        self.clock.move_to(due[0] + timedelta(seconds=1))
        self._take(self.runtime.fire_due_timers(self.version, self.snapshot.state))
        return due[0]

    def deliver(self, name: str, payload: Mapping[str, Any]) -> None:
        self._take(self.runtime.deliver_message(self.version, self.snapshot.state, name,
                                                payload, actor="bank"))

    def passed(self, element_id: str) -> bool:
        return any(step.element_id == element_id for step in self.steps)

    def assert_ended(self, end_event: str) -> None:
        assert self.snapshot.status == "completed", f"still open: {self.open}"
        assert self.snapshot.open_tasks == ()
        assert self.snapshot.timers == ()
        assert [s.element_id for s in self.steps if s.kind == "EndEvent"] == [end_event]


ENDS: dict[str, set[str]] = defaultdict(set)


def ends_at(key: str, end_event: str) -> Callable[[Callable[..., Walk]], Callable[..., None]]:
    """Declare the end event a path test reaches; the test returns its Walk, checked here."""

    def decorate(test: Callable[..., Walk]) -> Callable[..., None]:
        ENDS[key].add(end_event)

        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> None:
            test(*args, **kwargs).assert_ended(end_event)

        return run

    return decorate


# ------------------------------------------------------------------------------ policy_subsidy

APPLICATION = {
    "company_name": "星河智能科技有限公司",
    "credit_code": "91320594MA1W2X3Y4K",
    "enterprise_type": "高新技术企业",
    "policy_item": "研发投入补助",
    "requested_amount": 800_000,
    "rd_spend": 12_000_000,
    "revenue": 200_000_000,
    "employee_count": 120,
    "contact_name": "李娜",
    "contact_phone": "13812345678",
    "attachments": ["营业执照.pdf", "高企证书.pdf", "2025审计报告.pdf"],
    "commitment": True,
}
REASONS = ["缺少2025年度研发费用专项审计报告", "营业执照复印件未加盖公章"]
CORRECTION = {"correction_note": "已补充审计报告并重新盖章",
              "attachments": ["营业执照(盖章).pdf", "研发费用专项审计报告.pdf"]}
HANDOVER = {"budget_subject": "科技创新专项资金", "planned_payment_date": "2026-03-20"}


def subsidy(versions: Mapping[str, ProcessVersion], clock: Any, **changes: Any) -> Walk:
    return Walk(versions, "policy_subsidy", {**APPLICATION, **changes}, clock)


@ends_at("policy_subsidy", "Event_completed")
def test_subsidy_approved_published_and_handed_over(versions, clock) -> Walk:
    walk = subsidy(versions, clock)
    review = walk.task("preliminary_review")
    assert (review.name, review.lane, review.candidate_groups, review.form_key) == (
        "初审", "政策审核组", ("政策审核组",), "policy_subsidy_review")
    assert review.due_at == day_end(5) and review.follow_up_at == day_end(4)
    assert review.properties["escalationGroup"] == "部门负责人"

    walk.complete("preliminary_review", {"outcome": "approve", "comment": "材料齐全"})
    assert walk.passed("eligibility_check")
    assert (walk.snapshot.data["eligible"], walk.snapshot.data["tier"],
            walk.snapshot.data["amount"]) == (True, "A", 1_000_000)
    approval = walk.task("director_review")
    assert (approval.lane, approval.candidate_groups, approval.form_key) == (
        "部门负责人", ("部门负责人",), "policy_subsidy_director_review")
    assert approval.due_at == day_end(4)
    assert approval.properties["escalationGroup"] == "园区领导"

    walk.complete("director_review", {"outcome": "approve"}, actor="head1")
    assert walk.open == [] and walk.snapshot.status == "active"
    assert walk.fire("public_notice") == local(9)

    handover = walk.task("disbursement_handover")
    assert (handover.lane, handover.candidate_groups) == ("财务部", ("财务部",))
    walk.complete("disbursement_handover", HANDOVER, actor="fin1")
    return walk


@ends_at("policy_subsidy", "Event_review_rejected")
def test_subsidy_returned_twice_corrected_then_refused_by_the_director(versions, clock) -> Walk:
    walk = subsidy(versions, clock)
    for _ in range(2):
        walk.complete("preliminary_review", {"outcome": "return", "return_reasons": REASONS})
        correction = walk.task("correction")
        assert (correction.name, correction.lane, correction.candidate_groups) == (
            "补正材料", "企业", ("企业",))
        assert correction.form_key == "policy_subsidy_correction"
        assert walk.data_of("correction")["return_reasons"] == REASONS
        walk.complete("correction", CORRECTION, actor="ent1")
        assert walk.open == ["preliminary_review"]
    walk.complete("preliminary_review", {"outcome": "approve"})
    walk.complete("director_review", {"outcome": "reject", "comment": "预算已用完"}, actor="head1")
    return walk


@ends_at("policy_subsidy", "Event_withdrawn")
def test_subsidy_correction_not_answered_in_ten_working_days(versions, clock) -> Walk:
    walk = subsidy(versions, clock)
    walk.complete("preliminary_review", {"outcome": "return", "return_reasons": REASONS})
    assert walk.task("correction").due_at == day_end(9)
    assert walk.fire("Event_correction_expired") == local(16)
    return walk


@ends_at("policy_subsidy", "Event_not_accepted")
def test_subsidy_rejected_at_preliminary_review(versions, clock) -> Walk:
    walk = subsidy(versions, clock)
    walk.complete("preliminary_review", {"outcome": "reject", "comment": "不属于本园区企业"})
    assert not walk.passed("eligibility_check")
    return walk


@ends_at("policy_subsidy", "Event_not_eligible")
def test_subsidy_not_eligible_by_the_decision_table(versions, clock) -> Walk:
    walk = subsidy(versions, clock, enterprise_type="一般企业")
    walk.complete("preliminary_review", {"outcome": "approve"})
    assert walk.snapshot.data["eligible"] is False
    return walk


@ends_at("policy_subsidy", "Event_completed")
def test_subsidy_overdue_approval_is_decided_by_the_park_leaders(versions, clock) -> Walk:
    walk = subsidy(versions, clock)
    walk.complete("preliminary_review", {"outcome": "approve"})
    assert walk.fire("Event_director_overdue") == local(4)
    assert walk.open == ["leader_review"]
    leader = walk.task("leader_review")
    assert (leader.lane, leader.candidate_groups, leader.form_key) == (
        "园区领导", ("园区领导",), "policy_subsidy_leader_review")
    walk.complete("leader_review", {"outcome": "approve"}, actor="leader1")
    walk.fire("public_notice")
    walk.complete("disbursement_handover", HANDOVER, actor="fin1")
    assert not walk.passed("director_review")
    return walk


@ends_at("policy_subsidy", "Event_review_rejected")
def test_subsidy_overdue_approval_refused_by_the_park_leaders(versions, clock) -> Walk:
    walk = subsidy(versions, clock)
    walk.complete("preliminary_review", {"outcome": "approve"})
    walk.fire("Event_director_overdue")
    walk.complete("leader_review", {"outcome": "reject", "comment": "重复申报"}, actor="leader1")
    return walk


@pytest.mark.parametrize(("changes", "decision"), [
    ({}, (True, "A", 1_000_000)),
    ({"rd_spend": 9_000_000}, (True, "B", 500_000)),
    ({"rd_spend": 9_000_000, "revenue": 300_000_000}, (True, "C", 200_000)),
    ({"enterprise_type": "专精特新企业"}, (True, "B", 500_000)),
    ({"enterprise_type": "科技型中小企业", "rd_spend": 2_000_000, "revenue": 50_000_000,
      "employee_count": 12}, (True, "C", 200_000)),
    ({"enterprise_type": "科技型中小企业", "rd_spend": 2_000_000, "revenue": 50_000_000,
      "employee_count": 8}, (False, "", 0)),
    ({"rd_spend": 500_000}, (False, "", 0)),
    ({"revenue": 0, "rd_spend": 0, "employee_count": 0}, (False, "", 0)),
    ({"policy_item": "高新技术企业认定奖励", "revenue": 60_000_000}, (True, "A", 300_000)),
    ({"policy_item": "高新技术企业认定奖励", "revenue": 6_000_000}, (True, "B", 200_000)),
    ({"policy_item": "高新技术企业认定奖励", "enterprise_type": "专精特新企业"}, (False, "", 0)),
    ({"policy_item": "专精特新企业奖励", "enterprise_type": "专精特新企业",
      "revenue": 150_000_000, "employee_count": 60}, (True, "A", 500_000)),
    ({"policy_item": "专精特新企业奖励", "enterprise_type": "专精特新企业",
      "revenue": 150_000_000, "employee_count": 30}, (True, "B", 300_000)),
    ({"policy_item": "专精特新企业奖励", "enterprise_type": "专精特新企业",
      "revenue": 10_000_000}, (False, "", 0)),
])
def test_subsidy_decision_table(versions, clock, changes, decision) -> None:
    walk = subsidy(versions, clock, **changes)
    walk.complete("preliminary_review", {"outcome": "approve"})
    data = walk.snapshot.data
    assert (data["eligible"], data["tier"], data["amount"]) == decision
    eligible = decision[0]
    assert walk.open == (["director_review"] if eligible else [])
    assert walk.snapshot.status == ("active" if eligible else "completed")


@pytest.mark.parametrize(("data", "field"), [
    ({"outcome": "return"}, "return_reasons"),
    ({"outcome": "return", "return_reasons": []}, "return_reasons"),
    ({"outcome": "reject"}, "comment"),
    ({"outcome": "reject", "comment": ""}, "comment"),
    ({"outcome": "accept"}, "outcome"),
])
def test_subsidy_review_form_rules(versions, clock, data, field) -> None:
    walk = subsidy(versions, clock)
    with pytest.raises(FormDataInvalid) as caught:
        walk.complete("preliminary_review", data)
    assert field in caught.value.errors
    assert walk.open == ["preliminary_review"]


def test_subsidy_application_is_checked_against_its_form(versions, clock) -> None:
    with pytest.raises(FormDataInvalid) as caught:
        subsidy(versions, clock, credit_code="12345", commitment=False, attachments=[])
    assert {"credit_code", "commitment", "attachments"} <= set(caught.value.errors)


# --------------------------------------------------------------------- enterprise_registration

REGISTRATION = {
    "company_name": "云帆生物医药有限公司",
    "credit_code": "91320594MA2B3C4D5E",
    "legal_representative": "周明",
    "contact_name": "王芳",
    "contact_phone": "0512-66881234",
    "industry": "生物医药",
    "registered_capital": 2000,
    "planned_investment": 8000,
    "space_type": "标准厂房",
    "space_area": 1200,
    "planned_employees": 60,
    "expected_move_in_date": "2026-06-01",
    "business_scope": "创新药物研发与中试生产",
    "attachments": ["营业执照.pdf", "项目计划书.pdf"],
    "commitment": True,
}
ALLOCATION = {"outcome": "agreed", "allocated_building": "生物医药产业园B3栋",
              "allocated_unit": "101", "allocated_area": 1180, "rent_price": 32,
              "rent_free_months": 6, "lease_years": 5}
AGREEMENT = {"agreement_no": "RZ-2026-017", "sign_date": "2026-03-20",
             "lease_start_date": "2026-04-01", "agreement_files": ["入驻协议.pdf"]}


def registration(versions: Mapping[str, ProcessVersion], clock: Any) -> Walk:
    walk = Walk(versions, "enterprise_registration", REGISTRATION, clock)
    review = walk.task("material_review")
    assert (review.name, review.lane, review.candidate_groups, review.form_key) == (
        "材料审核", "招商服务部", ("招商服务部",), "registration_review")
    assert review.due_at == day_end(4)
    return walk


@ends_at("enterprise_registration", "Event_registered")
def test_registration_corrected_negotiated_and_signed(versions, clock) -> Walk:
    walk = registration(versions, clock)
    walk.complete("material_review", {"outcome": "return", "return_reasons": ["缺少环评说明"]})
    correction = walk.task("correction")
    assert (correction.lane, correction.form_key) == ("企业", "registration_correction")
    assert walk.data_of("correction")["return_reasons"] == ["缺少环评说明"]
    walk.complete("correction", {"correction_note": "已补充环评说明",
                                 "attachments": ["营业执照.pdf", "环评说明.pdf"]}, actor="ent1")
    walk.complete("material_review", {"outcome": "approve"})
    negotiation = walk.task("site_negotiation")
    assert (negotiation.lane, negotiation.form_key) == ("招商服务部", "registration_negotiation")
    walk.complete("site_negotiation", ALLOCATION)
    agreement = walk.task("sign_agreement")
    assert (agreement.lane, agreement.form_key) == ("招商服务部", "registration_agreement")
    walk.complete("sign_agreement", AGREEMENT)
    return walk


@ends_at("enterprise_registration", "Event_rejected")
def test_registration_rejected_at_material_review(versions, clock) -> Walk:
    walk = registration(versions, clock)
    walk.complete("material_review", {"outcome": "reject", "comment": "属于限制类产业"})
    return walk


@ends_at("enterprise_registration", "Event_negotiation_failed")
def test_registration_negotiation_failed(versions, clock) -> Walk:
    walk = registration(versions, clock)
    walk.complete("material_review", {"outcome": "approve"})
    walk.complete("site_negotiation", {"outcome": "failed", "comment": "租金未谈拢"})
    return walk


@ends_at("enterprise_registration", "Event_withdrawn")
def test_registration_correction_not_answered(versions, clock) -> Walk:
    walk = registration(versions, clock)
    walk.complete("material_review", {"outcome": "return", "return_reasons": ["缺少项目计划书"]})
    assert walk.fire("Event_correction_expired") == local(16)
    return walk


def test_registration_agreement_needs_the_allocation(versions, clock) -> None:
    walk = registration(versions, clock)
    walk.complete("material_review", {"outcome": "approve"})
    with pytest.raises(FormDataInvalid) as caught:
        walk.complete("site_negotiation", {"outcome": "agreed"})
    assert {"allocated_building", "allocated_unit", "allocated_area", "rent_price",
            "lease_years"} <= set(caught.value.errors)


# ----------------------------------------------------------------------------------- tax_docking

TAX_REGISTRATION = {
    "company_name": "星河智能科技有限公司",
    "credit_code": "91320594MA1W2X3Y4K",
    "taxpayer_type": "一般纳税人",
    "business_start_date": "2026-03-01",
    "finance_contact": "陈静",
    "finance_phone": "13912345678",
    "bank_name": "中国工商银行苏州工业园区支行",
    "bank_account_no": "1102020309000123456",
    "invoice_types": ["增值税专用发票", "数电发票"],
    "expected_monthly_invoices": 80,
    "expected_monthly_sales": 3_000_000,
    "attachments": ["营业执照.pdf", "开户信息.pdf"],
}
INVOICE_QUOTA = {"approved_invoice_types": ["增值税专用发票", "数电发票"],
                 "invoice_limit": 1_000_000, "monthly_invoice_quantity": 100}
TAX_TYPES = {"tax_types": ["增值税", "企业所得税", "印花税"], "vat_rate": 0.13,
             "filing_period": "monthly"}


@pytest.mark.parametrize("order", [("invoice_quota", "tax_type_assessment"),
                                   ("tax_type_assessment", "invoice_quota")])
@ends_at("tax_docking", "Event_docked")
def test_tax_docking_corrected_then_assessed_in_parallel(versions, clock, order) -> Walk:
    walk = Walk(versions, "tax_docking", TAX_REGISTRATION, clock)
    review = walk.task("tax_review")
    assert (review.name, review.lane, review.candidate_groups, review.form_key) == (
        "税务专员审核", "税务服务组", ("税务服务组",), "tax_docking_review")
    walk.complete("tax_review", {"outcome": "return", "return_reasons": ["银行账号与开户信息不符"]})
    assert walk.task("correction").lane == "企业"
    walk.complete("correction", {"correction_note": "已更正银行账号",
                                 "bank_account_no": "1102020309000654321",
                                 "attachments": ["开户信息.pdf"]}, actor="ent1")
    walk.complete("tax_review", {"outcome": "approve"})
    assert walk.open == ["invoice_quota", "tax_type_assessment"]
    for element_id in ("invoice_quota", "tax_type_assessment"):
        task = walk.task(element_id)
        assert (task.lane, task.candidate_groups, task.due_at) == (
            "税务服务组", ("税务服务组",), day_end(5))
    answers = {"invoice_quota": INVOICE_QUOTA, "tax_type_assessment": TAX_TYPES}
    walk.complete(order[0], answers[order[0]])
    assert walk.open == [order[1]]
    walk.complete(order[1], answers[order[1]])
    confirmation = walk.task("enterprise_confirmation")
    assert (confirmation.lane, confirmation.form_key) == ("企业", "tax_docking_confirm")
    shown = walk.data_of("enterprise_confirmation")
    assert shown["invoice_limit"] == 1_000_000
    assert shown["tax_types"] == TAX_TYPES["tax_types"]
    assert shown["bank_account_no"] == "1102020309000654321"
    walk.complete("enterprise_confirmation", {"acknowledged": True}, actor="ent1")
    return walk


# ----------------------------------------------------------------------------- fund_disbursement

APPLICATION_NO = "DEMO-2026-000001"
DISBURSEMENT = {
    "application_no": APPLICATION_NO,
    "company_name": "星河智能科技有限公司",
    "credit_code": "91320594MA1W2X3Y4K",
    "project_name": "2026年研发投入补助",
    "amount": 1_000_000,
    "payee_account_name": "星河智能科技有限公司",
    "payee_bank": "中国工商银行苏州工业园区支行",
    "payee_account_no": "1102020309000123456",
}
BANK_RECEIPT = {"application_no": APPLICATION_NO, "bank_serial": "ICBC20260310000123",
                "paid_amount": 1_000_000}


def disbursement(versions: Mapping[str, ProcessVersion], clock: Any) -> Walk:
    walk = Walk(versions, "fund_disbursement", DISBURSEMENT, clock, actor="fin1")
    review = walk.task("finance_review")
    assert (review.name, review.lane, review.candidate_groups, review.form_key) == (
        "财务审核", "财务部", ("财务部",), "fund_disbursement_finance_review")
    return walk


def payment_ordered(versions: Mapping[str, ProcessVersion], clock: Any) -> Walk:
    walk = disbursement(versions, clock)
    walk.complete("finance_review", {"outcome": "approve", "budget_subject": "科技创新专项资金"},
                  actor="fin1")
    approval = walk.task("leader_approval")
    assert (approval.lane, approval.candidate_groups) == ("园区领导", ("园区领导",))
    walk.complete("leader_approval", {"outcome": "approve"}, actor="leader1")
    walk.complete("payment_order", {"payment_voucher_no": "FK-2026-0310",
                                    "payment_date": "2026-03-02"}, actor="fin1")
    assert walk.open == []
    assert [(m.name, dict(m.correlation)) for m in walk.snapshot.awaited_messages] == [
        ("bank_confirmation", {"application_no": APPLICATION_NO})]
    return walk


@ends_at("fund_disbursement", "Event_paid")
def test_disbursement_confirmed_by_the_bank(versions, clock) -> Walk:
    walk = payment_ordered(versions, clock)
    walk.deliver("bank_confirmation", BANK_RECEIPT)
    assert walk.passed("Event_bank_confirmation")
    assert not walk.passed("chase_bank")
    return walk


def test_disbursement_ignores_another_applications_confirmation(versions, clock) -> None:
    walk = payment_ordered(versions, clock)
    with pytest.raises(NotWaiting):
        walk.deliver("bank_confirmation", {**BANK_RECEIPT, "application_no": "DEMO-2026-000002"})
    assert walk.snapshot.awaited_messages[0].name == "bank_confirmation"


@ends_at("fund_disbursement", "Event_paid")
def test_disbursement_chased_then_confirmed_by_the_bank(versions, clock) -> Walk:
    walk = payment_ordered(versions, clock)
    assert walk.fire("Gateway_wait_bank") == local(16)
    chase = walk.task("chase_bank")
    assert (chase.lane, chase.form_key, chase.due_at) == (
        "财务部", "fund_disbursement_chase", day_end(18))
    assert walk.snapshot.awaited_messages == ()
    with pytest.raises(NotWaiting):
        walk.deliver("bank_confirmation", BANK_RECEIPT)
    walk.complete("chase_bank", {"outcome": "wait", "chase_note": "银行称系统排队处理中"},
                  actor="fin1")
    assert walk.open == [] and len(walk.snapshot.timers) == 1
    walk.deliver("bank_confirmation", BANK_RECEIPT)
    return walk


@ends_at("fund_disbursement", "Event_paid")
def test_disbursement_confirmed_offline_after_chasing(versions, clock) -> Walk:
    walk = payment_ordered(versions, clock)
    walk.fire("Gateway_wait_bank")
    walk.complete("chase_bank", {"outcome": "confirmed", "bank_receipt_no": "HD-778812",
                                 "chase_note": "银行柜台出具纸质回单"}, actor="fin1")
    assert not walk.passed("Event_bank_confirmation")
    return walk


@ends_at("fund_disbursement", "Event_finance_rejected")
def test_disbursement_refused_by_finance(versions, clock) -> Walk:
    walk = disbursement(versions, clock)
    walk.complete("finance_review", {"outcome": "reject", "comment": "收款账户与企业名称不符"},
                  actor="fin1")
    return walk


@ends_at("fund_disbursement", "Event_leader_rejected")
def test_disbursement_refused_by_the_park_leader(versions, clock) -> Walk:
    walk = disbursement(versions, clock)
    walk.complete("finance_review", {"outcome": "approve", "budget_subject": "科技创新专项资金"},
                  actor="fin1")
    walk.complete("leader_approval", {"outcome": "reject", "comment": "待审计后再拨付"},
                  actor="leader1")
    return walk


# ------------------------------------------------------------------------------ the files as such

def _documents() -> dict[str, etree._Element]:
    return {p.stem: etree.parse(str(p)).getroot() for p in sorted(PROCESSES.glob("*.bpmn"))}


def test_every_end_event_is_reached_by_a_path_above() -> None:
    for key, root in _documents().items():
        ends = {e.get("id") for e in root.iter(f"{BPMN}endEvent")}
        assert ends == ENDS[key], key


def test_lanes_and_groups_are_park_groups() -> None:
    for key, root in _documents().items():
        named = {lane.get("name") for lane in root.iter(f"{BPMN}lane")}
        for task in root.iter(f"{BPMN}userTask"):
            named.update(filter(None, (task.get(f"{CAMUNDA}candidateGroups") or "").split(",")))
            for prop in task.iter(f"{CAMUNDA}property"):
                if prop.get("name") == "escalationGroup":
                    named.add(prop.get("value"))
        assert named <= PARK_GROUPS, (key, named - PARK_GROUPS)


def test_every_user_task_has_a_form_a_lane_and_a_due_date(versions) -> None:
    assert set(versions) == {"policy_subsidy", "enterprise_registration", "tax_docking",
                             "fund_disbursement"}
    for version in versions.values():
        assert version.promised_duration and version.promised_duration.endswith("WD")
        assert version.start_form_key in version.forms
        for task in version.human_tasks.values():
            assert task.form_key in version.forms, task.element_id
            assert task.lane in PARK_GROUPS, task.element_id
            assert task.due_date, task.element_id


def test_every_end_event_says_how_the_application_ended(versions) -> None:
    for root in _documents().values():
        for process in root.iter(f"{BPMN}process"):
            ends = {end.get("id") for end in process.iterfind(f"{BPMN}endEvent")}
            assert set(versions[process.get("id")].end_results) == ends, process.get("id")
    assert dict(versions["policy_subsidy"].end_results) == {
        "Event_withdrawn": "withdrawn", "Event_not_accepted": "rejected",
        "Event_not_eligible": "rejected", "Event_review_rejected": "rejected",
        "Event_completed": "approved"}
